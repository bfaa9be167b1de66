"""The background processes' entry points: the sweep (as a job, and every minute in-process
in the embedded default), the clock that enqueues it, and the RQ worker. The queue itself
is services/job_queue.py.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import PendingInbound
from models.base import utcnow
from services import (
    assignments,
    media,
    outbox,
    payments,
    refunds,
    reminders,
    whatsapp_templates,
)
from services.job_queue import QUEUE_NAME, JobQueue, redis_connection
from services.runtime import Runtime
from services.sweep import sweep

log = logging.getLogger(__name__)

SWEEP_INTERVAL = timedelta(minutes=1)
# The worker's answer to a stored inbound message (bot/inbound.py, above services/: named,
# not imported).
ANSWER_JOB = "bot.inbound.answer_job"
# A stored message is handed to a worker again only after this long, so the sweep does not
# race the job the webhook enqueued.
ANSWER_GRACE = timedelta(minutes=1)


def answer_job_id(message_id: int) -> str:
    """The RQ id of the job answering a stored message, the same from the webhook and the
    sweep: a job still queued is not queued again, however far behind the workers are."""
    return f"answer-{message_id}"


def pending_inbound(session: Session, now: datetime) -> list[int]:
    """Messages stored by the webhook and not answered yet: their job was lost (Redis
    down) or failed and is due another try."""
    return list(
        session.scalars(
            select(PendingInbound.message_id)
            .where(PendingInbound.created_at <= now - ANSWER_GRACE)
            .order_by(PendingInbound.message_id)
            .limit(1000)
        )
    )


def run_sweep(runtime: Runtime, now: datetime | None = None) -> dict[str, list[str]]:
    """Expires and offers seats, sends reminders, tells ops of guide offers nobody answered
    in time, then re-sends outbox rows whose delivery was lost or whose
    retry is due (they are sent by their own jobs, each safe to run twice)."""
    now = now or utcnow()
    jobs = JobQueue.of(runtime)
    with runtime.sessions() as session:
        result = sweep(session, now)
        # Money paid toward a hold that lapsed (less than its deposit) is never kept.
        refunds.refund_lapsed_holds(
            session, result.expired_holds, now, payments.StripeAccount.of(runtime.config)
        )
        outbox.commit_and_send(session, jobs)
    with runtime.sessions() as session:
        reminded = reminders.send_due_reminders(session, now, runtime.config.PUBLIC_BASE_URL)
        outbox.commit_and_send(session, jobs)
    with runtime.sessions() as session:
        escalated = [
            f"{a.departure.code}: {a.guide.name}"
            for a in assignments.escalate_unanswered_offers(session, now)
        ]
        outbox.commit_and_send(session, jobs)
    with runtime.sessions() as session:
        due = outbox.due_messages(session, now)
    for message_id in due:
        try:
            jobs.enqueue(outbox.deliver_job, message_id)
        except Exception as exc:  # Redis still down: next minute
            log.warning("could not re-enqueue message %s: %s", message_id, exc)
            break
    with runtime.sessions() as session:
        unanswered = pending_inbound(session, now)
    for message_id in unanswered:
        try:
            jobs.enqueue_named(
                ANSWER_JOB, message_id, job_id=answer_job_id(message_id), result_ttl=0
            )
        except Exception as exc:
            log.warning("could not re-enqueue the answer to message %s: %s", message_id, exc)
            break
    if runtime.config.TWILIO_ACCOUNT_SID and runtime.config.TWILIO_AUTH_TOKEN:
        # Templates still under WhatsApp's review (each asked every 15 minutes at most).
        try:
            jobs.enqueue(whatsapp_templates.refresh_reviews_job)
        except Exception as exc:
            log.warning("could not enqueue the template reviews' refresh: %s", exc)
    with runtime.sessions() as session:
        files_due = media.due(session, now)
    for media_id in files_due:
        try:
            jobs.enqueue(media.fetch_job, media_id)
        except Exception as exc:
            log.warning("could not re-enqueue media %s: %s", media_id, exc)
            break
    summary = result.as_dict()
    if escalated:
        summary["guide_offers_escalated"] = escalated
    if any(reminded.values()):
        summary["reminders"] = [f"{kind}: {n}" for kind, n in reminded.items() if n]
    if unanswered:
        summary["inbound_requeued"] = [str(message_id) for message_id in unanswered]
    if any(summary.values()) or due:
        log.info("sweep: %s; %d messages re-sent", summary, len(due))
    return summary


def sweep_job(runtime: Runtime) -> dict[str, list[str]]:
    """The sweep as a job; the clock (run_clock) enqueues it once a minute."""
    return run_sweep(runtime)


def clock_tick(redis_url: str, now: datetime | None = None) -> str | None:
    """Enqueues this minute's sweep unless some clock already did (a key per minute, set
    once). Returns the job id when this call enqueued it.

    The schedule lives in the clock process, not in Redis: Redis here keeps nothing on
    disk, and a sweep chain stored in it would end for good when it restarts empty."""
    moment = now or datetime.now(UTC)
    minute = moment.strftime("%Y%m%dT%H%M")
    connection = redis_connection(redis_url)
    if not connection.set(f"tourbot:sweep:{minute}", "1", nx=True, ex=600):
        return None
    job_id = f"sweep-{minute}"
    JobQueue(redis_url).enqueue(sweep_job, job_id=job_id, result_ttl=3600, failure_ttl=86400)
    return job_id


def run_clock(redis_url: str, stop: threading.Event | None = None, every: float = 15) -> None:
    """The `clock` process: ticks every few seconds, for ever, whatever Redis is doing."""
    stop = stop or threading.Event()
    while True:
        try:
            clock_tick(redis_url)
        except Exception as exc:  # Redis down: the next tick tries again
            log.warning("clock: could not enqueue the sweep (%s); retrying", exc)
        if stop.wait(every):
            return


def run_worker(redis_url: str, stop: threading.Event | None = None, retry_after: float = 2) -> None:
    """The `worker` process: an RQ SimpleWorker (jobs are short; a fork per job would cost
    a new database connection each time) that outlives Redis outages. rq's own worker
    exits when Redis goes away; this one waits and reconnects."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from rq import Queue, SimpleWorker

    stop = stop or threading.Event()
    while not stop.is_set():
        connection = redis_connection(redis_url)
        try:
            # rq restarts its scheduler process (which moves due retries onto the queue) in
            # its maintenance step; every minute rather than every 10, since a Redis outage
            # kills it.
            worker = SimpleWorker(
                [Queue(QUEUE_NAME, connection=connection)],
                connection=connection,
                maintenance_interval=60,
            )
            worker.work(with_scheduler=True)
            return  # asked to stop (SIGTERM, SIGINT)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("worker: Redis unavailable (%s); reconnecting in %.0f s", exc, retry_after)
            stop.wait(retry_after)


class InProcessScheduler:
    """The embedded default's stand-in for the RQ scheduler: a daemon thread that runs the
    sweep every minute. Production never starts it (REDIS_URL set)."""

    def __init__(self, runtime: Runtime, interval: timedelta = SWEEP_INTERVAL):
        self.runtime = runtime
        self.interval = interval.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="inprocess-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                run_sweep(self.runtime)
            except Exception:  # keep the thread alive; the next minute retries
                log.exception("in-process sweep failed")
