"""Answering in a worker (production, with Redis; bot/inbound.py): the webhook stores the
message and answers Twilio at once, a worker answers the customer through the outbox, one
message of a customer at a time and in order, and a message whose job was lost is
answered after the sweep finds it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from bot import engine, inbound
from config import TestConfig
from models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageStatus,
    Organization,
    PendingInbound,
    Task,
    TaskPriority,
    utcnow,
)
from services import inbox, jobs, outbox
from services.job_queue import QUEUE_NAME
from services.runtime import Runtime
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str) -> str:
    """The RQ worker's jobs read the environment, as the app does: the test servers."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    return redis_url


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session], worker_env: str) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    config.REDIS_URL = worker_env  # so the webhook leaves the answer to a worker
    with factory() as s:
        import_org(s)
    return create_app(config)


@pytest.fixture
def ada(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, name="Ada")


def queue(redis_url: str) -> Queue:
    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))


def work(redis_url: str) -> None:
    connection = Redis.from_url(redis_url)
    SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(burst=True)


def replies_to(factory: sessionmaker[Session], sid: str) -> list[Message]:
    with factory() as s:
        inbound_id = s.scalar(select(Message.id).where(Message.provider_sid == sid))
        return list(
            s.scalars(select(Message).where(Message.reply_to_id == inbound_id).order_by(Message.id))
        )


def test_the_webhook_stores_the_message_and_answers_before_any_worker_runs(
    ada: Chat, factory: sessionmaker[Session], worker_env: str
) -> None:
    assert ada.say("hi") == ""  # empty TwiML: the answer comes through the REST API
    with factory() as s:
        stored = s.scalars(select(Message).where(Message.provider_sid == ada.sids[-1])).one()
        assert (stored.direction, stored.body, stored.status) == ("inbound", "hi", "received")
        assert s.get(PendingInbound, stored.id) is not None
    assert replies_to(factory, ada.sids[-1]) == []  # nobody has answered yet
    assert queue(worker_env).count == 1

    work(worker_env)

    replies = replies_to(factory, ada.sids[-1])
    assert replies and all(r.status == MessageStatus.SENT for r in replies)
    assert all((r.kind, r.channel, r.to_phone) == ("reply", "whatsapp", ada.phone) for r in replies)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PendingInbound)) == 0
        conversation = s.scalars(select(Conversation)).one()
        stored = s.scalars(select(Message).where(Message.provider_sid == ada.sids[-1])).one()
        assert stored.conversation_id == conversation.id  # linked once the turn made it
        assert conversation.unread_count == 1


def test_the_same_turns_as_in_the_webhook_by_sms_too(
    client: FlaskClient, factory: sessionmaker[Session], worker_env: str
) -> None:
    """The worker says what the webhook would have said in its TwiML, as SMS, billed as SMS."""
    sms = Chat(client, factory, phone="+12025550177", whatsapp=False)
    assert sms.say("sunset tour this saturday for 2 adults") == ""
    work(worker_env)
    replies = replies_to(factory, sms.sids[-1])
    assert replies and {(r.channel, r.category, r.status) for r in replies} == {
        ("sms", "sms", MessageStatus.SENT)
    }
    assert any("Sunset" in r.body for r in replies)


def test_a_repeated_message_sid_is_stored_and_answered_once(
    ada: Chat, client: FlaskClient, factory: sessionmaker[Session], worker_env: str
) -> None:
    from cli.chat import post_inbound

    form = ada.form("hi")
    assert post_inbound(client, form, AUTH_TOKEN, BASE_URL) == (200, [])
    assert post_inbound(client, form, AUTH_TOKEN, BASE_URL) == (200, [])
    work(worker_env)
    with factory() as s:
        assert s.scalar(select(func.count()).where(Message.direction == "inbound")) == 1
    assert len(replies_to(factory, form["MessageSid"])) >= 1
    first = [r.id for r in replies_to(factory, form["MessageSid"])]
    assert post_inbound(client, form, AUTH_TOKEN, BASE_URL) == (200, [])
    work(worker_env)
    assert [r.id for r in replies_to(factory, form["MessageSid"])] == first


def test_one_customers_messages_are_answered_one_at_a_time_in_order(
    ada: Chat,
    factory: sessionmaker[Session],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    worker_env: str,
) -> None:
    """Two workers, one job each, the second message's job starting first while the first
    message's answer is slow: it takes the sender and answers the first message, then the
    second; the other job finds the sender taken and returns at once."""
    ada.say("hi")
    ada.say("sunset tour this saturday for 2 adults")
    first_sid, second_sid = ada.sids
    with factory() as s:
        first_id, second_id = (
            s.scalar(select(Message.id).where(Message.provider_sid == sid))
            for sid in (first_sid, second_sid)
        )
    spans: list[tuple[str, float, float]] = []
    real = engine.handle_inbound

    def slow(*args: Any, **kwargs: Any) -> list[str]:
        started = time.monotonic()
        time.sleep(0.3)
        try:
            return real(*args, **kwargs)
        finally:
            spans.append((args[2].provider_sid, started, time.monotonic()))

    monkeypatch.setattr(inbound, "handle_inbound", slow)
    results: dict[int, int] = {}
    returned: dict[int, float] = {}

    def job(message_id: int) -> None:
        results[message_id] = inbound.answer_job(runtime, message_id)
        returned[message_id] = time.monotonic()

    threads = [threading.Thread(target=job, args=(mid,)) for mid in (second_id, first_id)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)

    assert [sid for sid, _, _ in spans] == [first_sid, second_sid]
    assert spans[0][2] <= spans[1][1]  # the second began after the first was done
    assert results == {second_id: 2, first_id: 0}  # one job answered both
    assert returned[first_id] < spans[0][2]  # the other did not wait for the sender
    first_replies = [r.id for r in replies_to(factory, first_sid)]
    second_replies = [r.id for r in replies_to(factory, second_sid)]
    assert first_replies and second_replies and max(first_replies) < min(second_replies)


def test_a_message_stored_while_its_sender_is_answered_is_answered_by_that_job(
    ada: Chat,
    factory: sessionmaker[Session],
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second message's job runs while the first is being answered: it returns at
    once (it would park a worker), and the job that holds the sender answers it next."""
    ada.say("hi")
    with factory() as s:
        first_id = s.scalars(select(PendingInbound.message_id)).one()
    real = engine.handle_inbound
    second: dict[str, Any] = {}

    def meanwhile(*args: Any, **kwargs: Any) -> list[str]:
        if not second:
            ada.say("sunset tour this saturday for 2 adults")
            with factory() as s:
                message_id = s.scalar(
                    select(Message.id).where(Message.provider_sid == ada.sids[-1])
                )
            thread = threading.Thread(
                target=lambda: second.update(answered=inbound.answer_job(runtime, message_id))
            )
            second["thread"] = thread
            thread.start()
            thread.join(timeout=3)
            second["waited"] = thread.is_alive()
        return real(*args, **kwargs)

    monkeypatch.setattr(inbound, "handle_inbound", meanwhile)
    assert inbound.answer_job(runtime, first_id) == 2
    second["thread"].join(timeout=30)
    assert (second["waited"], second["answered"]) == (False, 0)
    first_replies = [r.id for r in replies_to(factory, ada.sids[0])]
    second_replies = [r.id for r in replies_to(factory, ada.sids[1])]
    assert first_replies and second_replies and max(first_replies) < min(second_replies)
    assert any("Sunset" in r.body for r in replies_to(factory, ada.sids[1]))
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PendingInbound)) == 0


def test_a_send_that_fails_after_the_answer_is_committed_does_not_stop_the_next_answer(
    ada: Chat, factory: sessionmaker[Session], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada.say("hi")
    ada.say("sunset tour this saturday for 2 adults")
    with factory() as s:
        first_id = s.scalar(select(Message.id).where(Message.provider_sid == ada.sids[0]))
    real = outbox.deliver_sequence
    calls: list[list[int]] = []

    def broken_once(session: Session, ids: list[int], rt: Runtime) -> list[str]:
        calls.append(ids)
        if len(calls) == 1:
            raise ValueError("not a TransportError")
        return real(session, ids, rt)

    monkeypatch.setattr(outbox, "deliver_sequence", broken_once)
    assert inbound.answer_job(runtime, first_id) == 2  # raised nothing
    first, second = replies_to(factory, ada.sids[0]), replies_to(factory, ada.sids[1])
    assert first and all(r.status == MessageStatus.QUEUED for r in first)  # due: the sweep
    assert second and all(r.status == MessageStatus.SENT for r in second)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PendingInbound)) == 0


def test_a_message_is_read_as_of_when_it_arrived_not_when_a_worker_got_to_it(
    ada: Chat, factory: sessionmaker[Session], runtime: Runtime
) -> None:
    ada.say("hi")
    arrived = utcnow() - timedelta(minutes=20)  # the workers were behind
    with factory() as s:
        pending = s.scalars(select(PendingInbound)).one()
        pending.created_at = arrived
        message_id = pending.message_id
        s.commit()
    inbound.answer_job(runtime, message_id)
    with factory() as s:
        conversation = s.scalars(select(Conversation)).one()
        assert conversation.last_inbound_at == arrived  # the 24-hour window runs from it
    assert {r.created_at for r in replies_to(factory, ada.sids[0])} == {arrived}


def test_a_message_whose_job_was_lost_is_answered_after_the_sweep_finds_it(
    ada: Chat, factory: sessionmaker[Session], runtime: Runtime, worker_env: str
) -> None:
    ada.say("hi")
    queue(worker_env).empty()  # Redis lost the job
    with factory() as s:
        assert jobs.pending_inbound(s, utcnow()) == []  # not yet: the webhook's job may run
    later = utcnow() + timedelta(minutes=2)
    assert jobs.run_sweep(runtime, later)["inbound_requeued"] != []  # run in-process here
    assert replies_to(factory, ada.sids[-1])
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PendingInbound)) == 0


def test_a_message_that_cannot_be_answered_is_tried_three_times_then_left_for_staff(
    ada: Chat, runtime: Runtime, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    ada.say("hi")
    with factory() as s:
        message_id = s.scalars(select(PendingInbound.message_id)).one()

    def broken(*args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(inbound, "handle_inbound", broken)
    for attempt in (1, 2):
        with pytest.raises(RuntimeError):
            inbound.answer_job(runtime, message_id)
        with factory() as s:
            assert s.get_one(PendingInbound, message_id).attempts == attempt
    with pytest.raises(RuntimeError):
        inbound.answer_job(runtime, message_id)
    with factory() as s:
        assert s.get(PendingInbound, message_id) is None
        # Ada's first message: no conversation had it until the bot gave up.
        org = s.scalars(select(Organization)).one()
        (row,) = inbox.list_conversations(s, org)
        assert row.conversation.customer.phone == ada.phone
        assert (row.last_body, row.last_direction) == ("hi", "inbound")
        assert row.conversation.status == ConversationStatus.PENDING
        assert row.conversation.handoff and row.conversation.unread_count == 1
        assert s.get_one(Message, message_id).conversation_id == row.conversation.id
        task = s.scalars(select(Task)).one()
        assert (task.kind, task.priority, task.conversation_id) == (
            "handoff",
            TaskPriority.URGENT,
            row.conversation.id,
        )
        assert task.details == f"Ada ({ada.phone}, whatsapp)\nSaid: “hi”"  # the staff's text
    assert replies_to(factory, ada.sids[-1]) == []


@pytest.fixture
def embedded(pg_url: str, factory: sessionmaker[Session]) -> Iterator[Flask]:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    config.ANSWER_IN_WORKER = True  # asked for, but without Redis there is no worker
    with factory() as s:
        import_org(s)
    yield create_app(config)


def test_without_redis_the_webhook_answers_in_its_twiml(
    embedded: Flask, factory: sessionmaker[Session]
) -> None:
    chat = Chat(embedded.test_client(), factory, name="Ada")
    assert chat.say("hi")  # the embedded default: `make run`, `flask chat`
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PendingInbound)) == 0


def test_flask_chat_shows_the_answer_where_workers_answer(
    app: Flask, worker_env: str, tmp_path: Path
) -> None:
    script = tmp_path / "chat.txt"
    script.write_text("sunset tour this saturday for 2 adults\n")
    result = app.test_cli_runner().invoke(
        args=["chat", "--from", "+12025550177", "--script", str(script)]
    )
    assert result.exit_code == 0, result.output
    assert "< " in result.output and "Sunset" in result.output  # answered, not left queued
    assert queue(worker_env).count == 0


def test_the_sweep_does_not_queue_again_an_answer_still_queued(
    ada: Chat, factory: sessionmaker[Session], runtime: Runtime, worker_env: str
) -> None:
    """Workers behind (or down): each minute's sweep finds the message still pending, and
    its job is still queued, so nothing is added; once the job is gone it is queued again."""
    runtime.config.REDIS_URL = worker_env  # the sweep enqueues on RQ, as in production
    ada.say("hi")
    ada.say("sunset tour")
    assert queue(worker_env).count == 2
    for minute in (2, 3, 4):
        jobs.run_sweep(runtime, utcnow() + timedelta(minutes=minute))
    assert queue(worker_env).count == 2
    assert len(set(queue(worker_env).job_ids)) == 2

    queue(worker_env).empty()  # lost
    jobs.run_sweep(runtime, utcnow() + timedelta(minutes=5))
    assert queue(worker_env).count == 2
    work(worker_env)
    assert replies_to(factory, ada.sids[0]) and replies_to(factory, ada.sids[1])
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(PendingInbound)) == 0
    assert queue(worker_env).count == 0


def test_stop_is_confirmed_by_the_worker_and_nothing_after_it_is_sent(
    ada: Chat, factory: sessionmaker[Session], worker_env: str
) -> None:
    ada.say("STOP")
    work(worker_env)
    (confirmation,) = replies_to(factory, ada.sids[-1])
    assert confirmation.status == MessageStatus.SENT and "unsubscribed" in confirmation.body
    ada.say("sunset tour this saturday for 2 adults")
    work(worker_env)
    assert replies_to(factory, ada.sids[-1]) == []
