"""The sweep as production runs it: an RQ job on the real Redis, executed by a real
worker, scheduling its own next run once per minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy.orm import Session, sessionmaker

from config import Config, TestConfig
from models import BookingStatus
from services import inventory, jobs, runtime
from tests.conftest import import_org
from tests.factories import departure, make_customer


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str) -> str:
    """Point the job code (which reads the environment, as a worker does) at the test servers."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    runtime.configure(Config())
    yield redis_url
    runtime.configure(TestConfig())


def test_rq_worker_runs_the_sweep_and_books_the_next_one(
    worker_env: str, factory: sessionmaker[Session]
) -> None:
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
    queue = Queue(jobs.QUEUE_NAME, connection=redis)
    job = jobs.enqueue(jobs.sweep_job)
    assert job.get_status() == "queued"
    SimpleWorker([queue], connection=redis).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished", job.latest_result()
    assert job.return_value()["expired_holds"] == [lapsed.reference]

    with factory() as s:
        assert s.get(type(lapsed), lapsed.id).status == BookingStatus.EXPIRED

    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1 and scheduled[0].startswith("sweep-")


def test_scheduling_is_idempotent_per_minute(worker_env: str) -> None:
    moment = datetime(2027, 1, 10, 6, 0, 30, tzinfo=UTC)
    ids = {jobs.schedule_next_sweep(worker_env, moment) for _ in range(5)}
    assert ids == {"sweep-20270110T0601"}
    queue = Queue(jobs.QUEUE_NAME, connection=Redis.from_url(worker_env))
    assert queue.scheduled_job_registry.get_job_ids() == ["sweep-20270110T0601"]


def test_without_redis_jobs_run_in_process() -> None:
    runtime.configure(TestConfig())
    assert jobs.enqueue(lambda a, b: a + b, 2, 3) == 5
