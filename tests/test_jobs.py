"""The sweep as production runs it: the clock enqueues it once a minute on the real Redis,
a real worker runs it; both outlive Redis outages, and a Redis restarted empty loses
nothing that matters."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy.orm import Session, sessionmaker

from models import BookingStatus
from services import inventory, job_queue, jobs
from services.job_queue import JobQueue
from services.runtime import Runtime
from tests.conftest import import_org
from tests.factories import departure, make_customer


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str) -> str:
    """Point the worker's jobs (which read the environment, as the app does) at the test
    servers."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    return redis_url


def test_rq_worker_runs_the_sweep(worker_env: str, factory: sessionmaker[Session]) -> None:
    real_now = datetime.now(UTC)
    with factory() as s:
        org = import_org(s, real_now - timedelta(days=1))
        dep = departure(s, org, "EBC0315")
        lapsed = inventory.hold_seats(
            s,
            org,
            dep,
            make_customer(s, org, "+12025550201", real_now),
            {"adult": 1},
            real_now - timedelta(hours=2),
            source="sms",
            hold_hours=1,
        )
        s.commit()

    redis = Redis.from_url(worker_env)
    queue = Queue(job_queue.QUEUE_NAME, connection=redis)
    job = JobQueue(worker_env).enqueue(jobs.sweep_job)
    assert job.get_status() == "queued"
    SimpleWorker([queue], connection=redis).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished", job.latest_result()
    assert job.return_value()["expired_holds"] == [lapsed.reference]

    with factory() as s:
        assert s.get(type(lapsed), lapsed.id).status == BookingStatus.EXPIRED


def test_any_number_of_clocks_enqueue_one_sweep_a_minute(worker_env: str) -> None:
    moment = datetime(2027, 1, 10, 6, 0, 30, tzinfo=UTC)
    ticks = [jobs.clock_tick(worker_env, moment + timedelta(seconds=n)) for n in range(5)]
    assert ticks == ["sweep-20270110T0600", None, None, None, None]
    assert jobs.clock_tick(worker_env, moment + timedelta(minutes=1)) == "sweep-20270110T0601"
    queue = Queue(job_queue.QUEUE_NAME, connection=Redis.from_url(worker_env))
    assert queue.job_ids == ["sweep-20270110T0600", "sweep-20270110T0601"]


def test_the_sweep_still_runs_after_redis_restarts_empty(
    worker_env: str, factory: sessionmaker[Session]
) -> None:
    """Found by the soak run: the sweep used to book its next run in Redis, so a Redis that
    restarted empty (it keeps nothing on disk) ended the sweeps, and with them hold expiry
    and the re-sending of messages queued during the outage."""
    real_now = datetime.now(UTC)
    redis = Redis.from_url(worker_env)
    jobs.clock_tick(worker_env, real_now - timedelta(minutes=1))
    redis.flushdb()  # the restart
    with factory() as s:
        org = import_org(s, real_now - timedelta(days=1))
        lapsed = inventory.hold_seats(
            s,
            org,
            departure(s, org, "EBC0315"),
            make_customer(s, org, "+12025550202", real_now),
            {"adult": 1},
            real_now - timedelta(hours=2),
            source="sms",
            hold_hours=1,
        )
        s.commit()
    assert jobs.clock_tick(worker_env, real_now) is not None
    SimpleWorker([Queue(job_queue.QUEUE_NAME, connection=redis)], connection=redis).work(burst=True)
    with factory() as s:
        assert s.get(type(lapsed), lapsed.id).status == BookingStatus.EXPIRED


def test_clock_and_worker_wait_for_redis_instead_of_exiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found by the soak run: rq's worker exits when Redis goes away, and nothing ran jobs
    after Redis came back. Ours wait and reconnect."""
    nowhere = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    for target, kwargs in (
        (jobs.run_clock, {"every": 0.05}),
        (jobs.run_worker, {"retry_after": 0.05}),
    ):
        stop = threading.Event()
        thread = threading.Thread(target=target, args=(nowhere, stop), kwargs=kwargs)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), target.__name__  # still trying, not crashed
        stop.set()
        thread.join(5)
        assert not thread.is_alive()
    assert "clock: could not enqueue the sweep" in caplog.text
    assert "worker: Redis unavailable" in caplog.text


def test_without_redis_jobs_run_in_process_with_the_callers_runtime(runtime: Runtime) -> None:
    def job(given: Runtime, a: int, b: int) -> tuple[Runtime, int]:
        return given, a + b

    assert JobQueue.of(runtime).enqueue(job, 2, 3) == (runtime, 5)


def test_only_module_level_functions_of_services_go_on_the_queue(redis_url: str) -> None:
    """An RQ worker runs a job by its name; a lambda, a nested function or anything outside
    services/ has none it could import."""
    queue = JobQueue(redis_url)
    for job in (lambda runtime: None, test_only_module_level_functions_of_services_go_on_the_queue):
        with pytest.raises(ValueError, match="not a module-level function of services/ or bot/"):
            queue.enqueue(job)
    with pytest.raises(ValueError, match="not a job of services/ or bot/"):
        job_queue.run_job("os.system", "true")
