"""Answering inbound messages in a worker (production, with Redis): the webhook only checks
the signature, counts the sender, stores the message (bot.engine.store_inbound: the log
row, whose unique MessageSid stops a repeat, and a PendingInbound row) and enqueues
answer_job; Twilio gets an empty answer within milliseconds. The job runs the state
machine and sends the replies through the outbox and the REST API.

Order per sender: answer_job holds a lock on the sender (organization, channel, phone)
while it answers and sends, and answers every message of that sender still pending,
oldest first. Two messages from one customer are never answered at once nor out of order,
whichever worker gets which job. A job that finds the sender taken returns at once
(a worker is not parked): the holder looks again before and after it lets go, so it
answers that message too. A job lost (Redis down) leaves its PendingInbound row, and
the sweep enqueues it again (one job id per message: never queued twice).

The embedded default (no Redis) answers in the webhook, in its TwiML, as before."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from bot.engine import find_sender, handle_inbound, leave_for_staff, stored_inbound
from config import INSTANCE_PATH, Config
from intents import NLU, ParseContext, TourVocabulary, build_nlu
from models import Message, PendingInbound, utcnow
from services import media, outbox
from services.job_queue import JobQueue
from services.runtime import Runtime

log = logging.getLogger(__name__)

# A message whose answer failed this many times (a bug in a handler, say) is left for
# staff rather than tried for ever: in the inbox, its conversation waiting for a person,
# with an urgent task (engine.leave_for_staff).
MAX_ATTEMPTS = 3


@cache
def nlu_for(
    rasa_url: str | None, cache_dir: str, rasa_urls: tuple[tuple[str, str], ...] = ()
) -> NLU:
    """One NLU per process: the model trains (or loads from its cache) on first use."""
    return build_nlu(rasa_url, Path(cache_dir), rasa_urls=dict(rasa_urls))


def nlu_of(config: Config, instance_path: str | Path = INSTANCE_PATH) -> NLU:
    return nlu_for(
        config.RASA_URL, str(instance_path) + "/nlu-cache", tuple(config.RASA_URLS.items())
    )


def warm_up(nlu: NLU) -> None:
    """Loads the NLU (its model, the date parser's data) now rather than during the first
    customer's message, so a fresh process answers at full speed."""
    nlu.parse(
        "2 adults on 15/03, next saturday?",
        ParseContext(now=utcnow(), tours=TourVocabulary.from_tours([])),
    )


def answer_job(
    runtime: Runtime, message_id: int, sender: tuple[int, str, str] | None = None
) -> int:
    """Answers the sender of this message (organization id, channel, phone: the webhook
    says; otherwise read from the log): every message of theirs still pending, oldest
    first, under their lock. Returns how many were answered; 0 at once when another job
    holds the sender (it answers this message too). A message whose turn failed is
    counted (_count_failure) and raised once the sender's other messages are answered."""
    with runtime.sessions() as session:
        if sender is None:
            sender = (
                session.execute(
                    select(Message.organization_id, Message.channel, Message.from_phone).where(
                        Message.id == message_id
                    )
                )
                .tuples()
                .first()
            )
            session.rollback()
            if sender is None:
                return 0
        org_id, channel, phone = sender
        of_sender: dict[str, object] = {"org_id": org_id, "phone": phone, "channel": channel}
        tried: set[int] = set()
        failures: list[Exception] = []
        while True:
            with sender_lock(session, f"{org_id}:{channel}:{phone}") as held:
                if not held:
                    break
                # Again until none is left: a message stored meanwhile had its own job,
                # which found the sender taken and left it to this one.
                while row := _next_pending(session, of_sender, tried):
                    tried.add(row.message_id)
                    try:
                        _answer(session, runtime, row)
                    except Exception as exc:
                        failures.append(exc)
            # One stored between the last look and the unlock found the sender taken too.
            if _next_pending(session, of_sender, tried) is None:
                break
        if failures:
            raise failures[0]
        return len(tried)


def _next_pending(
    session: Session, of_sender: dict[str, object], tried: set[int]
) -> PendingInbound | None:
    pending = session.scalars(_PENDING_OF_SENDER, of_sender).all()
    row = next((row for row in pending if row.message_id not in tried), None)
    session.rollback()  # no transaction left open between looks
    return row


# A sender's messages waiting for their answer, oldest first: the pending rows alone (a
# handful: each goes with its answer), by the sender they keep; a join to the log would
# scan every message of the organization. Built once, so compiled once.
_PENDING_OF_SENDER = (
    select(PendingInbound)
    .where(
        PendingInbound.organization_id == bindparam("org_id"),
        PendingInbound.inbound["from_phone"].as_string() == bindparam("phone"),
        PendingInbound.inbound["channel"].as_string() == bindparam("channel"),
    )
    .order_by(PendingInbound.message_id)
)


def _answer(session: Session, runtime: Runtime, pending: PendingInbound) -> None:
    """One message: the state machine, the pending row gone and the replies queued in one
    transaction; the replies sent right after it commits, before the next message. The
    turn reads the message as of its arrival ("today" just before midnight; the 24-hour
    window), however late the worker comes to it."""
    config = runtime.config
    message_id = pending.message_id
    msg, to_channel = stored_inbound(pending)
    jobs = JobQueue.of(runtime)
    try:
        sender = find_sender(session, msg, to_channel)
        if sender is None:  # the organization gave the number up meanwhile
            log.warning("message %s: its number is no organization's now", message_id)
        else:
            handle_inbound(
                session,
                sender,
                msg,
                nlu_of(config),
                pending.created_at,
                config,
                stored_id=message_id,
            )
        session.execute(delete(PendingInbound).where(PendingInbound.message_id == message_id))
        committed = outbox.commit_queued(session)
    except Exception:
        session.rollback()
        for queued in (outbox.PENDING, outbox.PENDING_SEQUENCES, media.PENDING):
            session.info.pop(queued, None)  # rolled back with the turn
        _count_failure(session, runtime, message_id)
        raise
    try:
        outbox.send_committed(session, jobs, committed, replies_now=runtime)
        media.enqueue_pending(session, jobs)
    except Exception:
        # Answered and committed: the replies are due in the outbox, whose sweep sends
        # them; the sender's next message is answered all the same.
        session.rollback()
        session.info.pop(media.PENDING, None)
        log.exception("message %s answered, but sending its replies failed", message_id)


def _count_failure(session: Session, runtime: Runtime, message_id: int) -> None:
    attempts = session.scalar(
        update(PendingInbound)
        .where(PendingInbound.message_id == message_id)
        .values(attempts=PendingInbound.attempts + 1)
        .returning(PendingInbound.attempts)
    )
    if attempts is not None and attempts >= MAX_ATTEMPTS:
        log.error("message %s could not be answered %s times; left for staff", message_id, attempts)
        try:
            with session.begin_nested():
                _leave_for_staff(session, runtime, message_id)
        except Exception:
            log.exception("message %s could not be put in the inbox either", message_id)
        session.execute(delete(PendingInbound).where(PendingInbound.message_id == message_id))
    outbox.commit_and_send(session, JobQueue.of(runtime))


def _leave_for_staff(session: Session, runtime: Runtime, message_id: int) -> None:
    pending = session.get_one(PendingInbound, message_id)
    msg, to_channel = stored_inbound(pending)
    sender = find_sender(session, msg, to_channel)
    if sender is not None:
        leave_for_staff(
            session, sender, msg, message_id, pending.created_at, utcnow(), runtime.config
        )


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's key (a signed 64-bit number) for a name."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@contextmanager
def sender_lock(session: Session, name: str) -> Iterator[bool]:
    """Yields whether this job got the lock: not waited for, so a second job for a sender
    does not park a worker while the first answers. Held across the commits of answering
    and sending (the session's own transactions come and go), so a session-level advisory
    lock on a connection of its own. SQLite, the embedded default's, has no such thing and
    needs none: it answers in the webhook."""
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect() as conn:
        held = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
