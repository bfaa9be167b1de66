"""The outbox against Twilio's REST API (mocked with responses) and real Redis: sending,
retries with back-off, permanent failures, the WhatsApp 24-hour window, and nothing lost
while Redis is down."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import TestConfig
from models import Channel, Conversation, Message, Organization, utcnow
from services import job_queue, jobs, outbox
from services.customers import get_or_create_customer
from services.job_queue import JobQueue
from services.runtime import Runtime
from tests.conftest import import_org
from tests.factories import catalog_data

ACCOUNT = "AC" + "1" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CUSTOMER = "+12025550101"
TEMPLATE = "HX" + "a" * 32


def twilio_config(**overrides: object) -> TestConfig:
    config = TestConfig()
    config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN = ACCOUNT, "secret-token"
    config.PUBLIC_BASE_URL = "https://bot.example.com"
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def twilio(factory: sessionmaker[Session]) -> Runtime:
    """Jobs run in-process, sending through Twilio's REST API (mocked)."""
    return Runtime(twilio_config(), factory)


@pytest.fixture
def org(factory: sessionmaker[Session]) -> Organization:
    with factory() as s:
        return import_org(s)


def queue_one(
    runtime: Runtime,
    body: str = "Your spot opened",
    channel: str = Channel.SMS,
    last_inbound_hours_ago: float | None = None,
) -> int:
    with runtime.sessions() as s:
        org = s.scalar(select(Organization))
        customer, _ = get_or_create_customer(s, org, CUSTOMER, utcnow(), name="Ada")
        if last_inbound_hours_ago is not None:
            s.add(
                Conversation(
                    organization_id=org.id,
                    customer_id=customer.id,
                    channel=channel,
                    state="idle",
                    slots={},
                    created_at=utcnow(),
                    updated_at=utcnow(),
                    last_inbound_at=utcnow() - timedelta(hours=last_inbound_hours_ago),
                )
            )
            s.flush()
        row = outbox.queue(s, org, CUSTOMER, body, utcnow(), channel=channel)[0]
        outbox.commit_and_send(s, JobQueue.of(runtime))
        return row.id


def row(factory: sessionmaker[Session], message_id: int) -> Message:
    with factory() as s:
        return s.get(Message, message_id)


def sent_form(call) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return parse_qs(call.request.body)


@responses.activate
def test_notification_goes_through_twilio_rest_after_commit(org, factory, twilio) -> None:
    responses.post(API, json={"sid": "SM" + "b" * 32, "status": "queued"}, status=201)
    message_id = queue_one(twilio)  # in-process jobs: delivered right after the commit
    sent = row(factory, message_id)
    assert (sent.status, sent.provider_sid, sent.attempts) == ("sent", "SM" + "b" * 32, 1)
    form = sent_form(responses.calls[0])
    assert (
        form["To"] == [CUSTOMER]
        and form["From"] == ["+15005550006"]
        and form["Body"] == ["Your spot opened"]
    )
    assert form["StatusCallback"] == ["https://bot.example.com/webhooks/twilio/status"]


@responses.activate
def test_429_and_5xx_are_retried_with_backoff_then_sent(org, factory, twilio) -> None:
    responses.post(
        API, json={"code": 20429, "message": "Too Many Requests", "status": 429}, status=429
    )
    responses.post(
        API, json={"code": 20500, "message": "Internal Server Error", "status": 500}, status=500
    )
    responses.post(API, json={"sid": "SM" + "c" * 32, "status": "queued"}, status=201)
    message_id = queue_one(twilio)
    first = row(factory, message_id)
    assert (first.status, first.attempts, first.error_code) == ("retrying", 1, "20429")
    assert first.next_attempt_at - first.updated_at == timedelta(seconds=30)
    # The sweep sends what is due; an extra run before it is due sends nothing.
    with factory() as s:
        assert outbox.due_messages(s, first.next_attempt_at) == []
        assert outbox.due_messages(s, first.next_attempt_at + timedelta(minutes=1)) == [message_id]
    with factory() as s:
        assert outbox.deliver(s, message_id, first.next_attempt_at, twilio) == "retrying"
    with factory() as s:
        assert (
            outbox.deliver(s, message_id, first.next_attempt_at + timedelta(minutes=5), twilio)
            == "sent"
        )
    final = row(factory, message_id)
    assert (final.status, final.attempts, final.error_code) == ("sent", 3, None)
    assert len(responses.calls) == 3
    with factory() as s:  # delivering again is harmless: the row is no longer due
        assert outbox.deliver(s, message_id, utcnow(), twilio) == "skipped"
    assert len(responses.calls) == 3


@responses.activate
def test_permanent_errors_fail_at_once_with_the_reason(org, factory, twilio) -> None:
    responses.post(
        API,
        json={"code": 21211, "message": "The 'To' number is not valid", "status": 400},
        status=400,
    )
    failed = row(factory, queue_one(twilio))
    assert (failed.status, failed.error_code, failed.attempts) == ("failed", "21211", 1)
    assert "not valid" in failed.error_message


@responses.activate
def test_gives_up_after_the_last_try(org, factory, twilio) -> None:
    responses.post(
        API, json={"code": 20503, "message": "Service Unavailable", "status": 503}, status=503
    )
    message_id = queue_one(twilio)
    moment = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += timedelta(hours=1)
        with factory() as s:
            outbox.deliver(s, message_id, moment, twilio)
    gave_up = row(factory, message_id)
    assert (gave_up.status, gave_up.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert len(responses.calls) == outbox.MAX_ATTEMPTS


@responses.activate
def test_whatsapp_inside_the_window_is_free_text(org, factory, twilio) -> None:
    responses.post(API, json={"sid": "SM" + "d" * 32, "status": "queued"}, status=201)
    sent = row(factory, queue_one(twilio, channel=Channel.WHATSAPP, last_inbound_hours_ago=23))
    assert sent.status == "sent"
    form = sent_form(responses.calls[0])
    assert form["To"] == [f"whatsapp:{CUSTOMER}"] and form["From"] == ["whatsapp:+14155238886"]
    assert "Body" in form and "ContentSid" not in form


def test_whatsapp_outside_the_window_without_a_template_waits_for_staff(
    org, factory, twilio
) -> None:
    held = row(factory, queue_one(twilio, channel=Channel.WHATSAPP, last_inbound_hours_ago=25))
    assert held.status == "needs_template" and held.attempts == 0


@responses.activate
def test_whatsapp_outside_the_window_uses_the_approved_template(factory, twilio) -> None:
    data = catalog_data()
    data["organization"]["settings"]["whatsapp_template"] = {
        "content_sid": TEMPLATE,
        "variables": {"1": "customer_name", "2": "summary"},
    }
    with factory() as s:
        import_org(s, **{"organization": data["organization"]})
    responses.post(API, json={"sid": "SM" + "e" * 32, "status": "queued"}, status=201)
    sent = row(
        factory,
        queue_one(
            twilio,
            "A spot opened on the Sunset Tour\nReply CONFIRM",
            channel=Channel.WHATSAPP,
            last_inbound_hours_ago=48,
        ),
    )
    assert (sent.status, sent.template_sid) == ("sent", TEMPLATE)
    form = sent_form(responses.calls[0])
    assert form["ContentSid"] == [TEMPLATE] and "Body" not in form
    assert json.loads(form["ContentVariables"][0]) == {
        "1": "Ada",
        "2": "A spot opened on the Sunset Tour",
    }


@responses.activate
def test_redis_down_while_a_notification_is_due_then_delivered_when_it_returns(
    factory: sessionmaker[Session], redis_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.post(API, json={"sid": "SM" + "f" * 32, "status": "queued"}, status=201)
    down = twilio_config(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    with factory() as s:
        import_org(s)
    message_id = queue_one(Runtime(down, factory))
    assert row(factory, message_id).status == "queued"  # committed; the enqueue failed
    assert len(responses.calls) == 0

    # Redis is back. The worker (run here) reads its configuration from the environment.
    for name, value in {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "secret-token",
    }.items():
        monkeypatch.setenv(name, value)
    later = utcnow() + timedelta(minutes=2)
    jobs.run_sweep(Runtime(twilio_config(REDIS_URL=redis_url), factory), later)
    redis = Redis.from_url(redis_url)
    SimpleWorker([Queue(job_queue.QUEUE_NAME, connection=redis)], connection=redis).work(burst=True)
    delivered = row(factory, message_id)
    assert delivered.status == "sent" and delivered.attempts == 1
    assert len(responses.calls) == 1


def test_savepoints_neither_send_early_nor_lose_messages(
    factory: sessionmaker[Session], runtime: Runtime
) -> None:
    """Messages go out only at the real commit, and a rolled-back savepoint loses its own
    messages but not the others'."""
    with factory() as s:
        org = import_org(s)
    with factory() as s:
        org = s.get(Organization, org.id)
        before = outbox.queue(s, org, "+12025550111", "queued before savepoints", utcnow())[0].id
        with s.begin_nested():
            s.flush()
        try:
            with s.begin_nested():
                lost = outbox.queue(
                    s, org, "+12025550112", "rolled back with its savepoint", utcnow()
                )[0].id
                raise RuntimeError("a refused hold, say")
        except RuntimeError:
            pass
        assert s.get(Message, before).status == "queued"  # nothing sent before the commit
        outbox.commit_and_send(s, JobQueue.of(runtime))
    assert row(factory, before).status == "sent"
    assert row(factory, lost) is None


def test_a_rolled_back_transaction_sends_nothing(factory: sessionmaker[Session]) -> None:
    sent: list[int] = []
    with factory() as s:
        org = import_org(s)
    with factory() as s:
        org = s.get(Organization, org.id)
        lost = outbox.queue(s, org, "+12025550111", "rolled back", utcnow())[0].id
        s.rollback()
        kept = outbox.queue(s, org, "+12025550112", "committed", utcnow())[0].id
        outbox.commit_and_send(s, RecordingQueue(sent))
    assert sent == [kept] and kept != lost
    assert row(factory, lost) is None


class RecordingQueue(JobQueue):
    """Notes which messages were handed to a delivery job, and sends nothing."""

    def __init__(self, handed: list[int]) -> None:
        super().__init__(None, None)
        self.handed = handed

    def enqueue(self, job, *args, **rq_options):  # type: ignore[no-untyped-def]
        assert job is outbox.deliver_job
        self.handed.append(args[0])


def test_a_message_committed_without_its_job_is_sent_by_the_sweep(
    factory: sessionmaker[Session], runtime: Runtime
) -> None:
    """The safety net: a commit that did not hand its messages to a job (a crash between
    commit and enqueue, say) leaves them due, and the sweep sends them a minute later."""
    with factory() as s:
        org = import_org(s)
    with factory() as s:
        org = s.get(Organization, org.id)
        message_id = outbox.queue(s, org, "+12025550111", "left behind", utcnow())[0].id
        s.info.pop(outbox.PENDING)
        s.commit()
    assert row(factory, message_id).status == "queued"
    jobs.run_sweep(runtime, utcnow())  # within the grace: the job may still be on its way
    assert row(factory, message_id).status == "queued"
    jobs.run_sweep(runtime, utcnow() + outbox.REQUEUE_GRACE + timedelta(seconds=1))
    assert row(factory, message_id).status == "sent"


def test_a_hung_twilio_connection_times_out_and_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the soak run: twilio's client waits for ever by default, so a hung
    connection held a worker and the message's row lock indefinitely."""
    import socket
    import threading
    import time

    from services import transports

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    monkeypatch.setattr(transports, "SEND_TIMEOUT_SECONDS", 1)
    transport = transports.TwilioTransport(
        "AC" + "1" * 32, "token", f"http://127.0.0.1:{listener.getsockname()[1]}"
    )
    started = time.monotonic()
    with pytest.raises(transports.TransportError) as raised:
        transport.send(
            transports.Outgoing(1, "+15005550006", "+12025550101", "hi", None, None, None)
        )
    assert raised.value.retryable
    assert time.monotonic() - started < 5
    listener.close()


@responses.activate
def test_the_twilio_client_honours_the_deployments_proxy_and_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Deployments behind a proxy, or with their own CA, set HTTPS_PROXY, NO_PROXY and
    REQUESTS_CA_BUNDLE (once ignored: the client did not trust the environment, to save
    reading it at every message). Still read once per host, not at every message."""
    import requests.sessions

    from services import transports

    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    for name in ("NO_PROXY", "no_proxy", "CURL_CA_BUNDLE", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    reads: list[str] = []
    read = requests.sessions.get_environ_proxies
    monkeypatch.setattr(
        requests.sessions,
        "get_environ_proxies",
        lambda url, **kw: reads.append(url) or read(url, **kw),
    )
    responses.post(API, json={"sid": "SM" + "e" * 32, "status": "queued"}, status=201)

    def sent_through(transport: transports.TwilioTransport, times: int) -> list[dict]:
        for n in range(times):
            transport.send(transports.Outgoing(n, "+15005550006", CUSTOMER, "hi"))
        return [call.request.req_kwargs for call in responses.calls[-times:]]  # type: ignore[attr-defined]

    sent = sent_through(transports.TwilioTransport(ACCOUNT, "token"), 3)
    assert [(s["verify"], s["proxies"].get("https")) for s in sent] == [
        (str(bundle), "http://proxy.internal:3128")
    ] * 3
    assert len(reads) == 1  # the environment read for the first message only

    monkeypatch.setenv("NO_PROXY", ".twilio.com")
    [bypassed] = sent_through(transports.TwilioTransport(ACCOUNT, "token"), 1)
    assert "https" not in bypassed["proxies"] and bypassed["verify"] == str(bundle)


@responses.activate
def test_a_message_twilio_accepted_is_recorded_even_if_the_database_connection_drops(
    org, factory, twilio
) -> None:
    """Found by the soak run: PostgreSQL connections killed between Twilio accepting a
    message and our commit left the row queued, and the sweep sent it a second time."""
    from sqlalchemy import text

    with factory() as s:
        org_row = s.scalar(select(Organization))
        get_or_create_customer(s, org_row, CUSTOMER, utcnow())
        message_id = outbox.queue(s, org_row, CUSTOMER, "Spot open", utcnow())[0].id
        s.info.pop(outbox.PENDING)  # delivered by hand below, not after this commit
        s.commit()

    delivering = factory()

    def accept_then_cut(request):  # type: ignore[no-untyped-def]
        # Twilio accepts; at that moment the worker's database connection is killed.
        pid = delivering.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with factory() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return 201, {}, json.dumps({"sid": "SM" + "d" * 32, "status": "queued"})

    responses.add_callback(responses.POST, API, callback=accept_then_cut)
    assert outbox.deliver(delivering, message_id, utcnow(), twilio) == "sent"
    delivering.close()
    sent = row(factory, message_id)
    assert (sent.status, sent.provider_sid) == ("sent", "SM" + "d" * 32)
    with factory() as s:  # the sweep finds nothing to send again
        assert outbox.due_messages(s, utcnow() + timedelta(hours=1)) == []
    assert len(responses.calls) == 1


def queue_two(runtime: Runtime, first: str, second: str) -> tuple[int, int]:
    """Two messages to one customer in one transaction: each has its own delivery job."""
    with runtime.sessions() as s:
        org = s.scalar(select(Organization))
        get_or_create_customer(s, org, CUSTOMER, utcnow(), name="Ada")
        one = outbox.queue(s, org, CUSTOMER, first, utcnow())[0]
        two = outbox.queue(s, org, CUSTOMER, second, utcnow())[0]
        outbox.commit_and_send(s, JobQueue.of(runtime))
        return one.id, two.id


def bodies_sent() -> list[str]:
    return [sent_form(call)["Body"][0] for call in responses.calls]


TOO_MANY = {"code": 20429, "message": "Too Many Requests", "status": 429}


@responses.activate
def test_a_later_message_waits_for_an_earlier_one_being_retried(org, factory, twilio) -> None:
    responses.post(API, json=TOO_MANY, status=429)
    responses.post(API, json={"sid": "SM" + "1" * 32, "status": "queued"}, status=201)
    responses.post(API, json={"sid": "SM" + "2" * 32, "status": "queued"}, status=201)
    first_id, second_id = queue_two(twilio, "Your spot opened", "Reply YES to take it")
    first, second = row(factory, first_id), row(factory, second_id)
    assert (first.status, second.status, second.attempts) == ("retrying", "queued", 0)
    assert bodies_sent() == ["Your spot opened"]  # the second did not overtake it
    assert second.next_attempt_at > first.next_attempt_at  # the sweep keeps the order too
    with factory() as s:
        assert outbox.deliver(s, second_id, first.next_attempt_at, twilio) == "waiting"
    assert len(responses.calls) == 1

    with factory() as s:  # the first one's retry goes, and takes the waiting one with it
        assert outbox.deliver(s, first_id, first.next_attempt_at, twilio) == "sent"
    assert bodies_sent() == ["Your spot opened", "Your spot opened", "Reply YES to take it"]
    assert (row(factory, first_id).status, row(factory, second_id).status) == ("sent", "sent")
    assert row(factory, second_id).attempts == 1


@responses.activate
def test_the_rest_go_once_the_earlier_message_has_failed_for_good(org, factory, twilio) -> None:
    for _ in range(outbox.MAX_ATTEMPTS):
        responses.post(API, json=TOO_MANY, status=429)
    responses.post(API, json={"sid": "SM" + "3" * 32, "status": "queued"}, status=201)
    first_id, second_id = queue_two(twilio, "Your spot opened", "Reply YES to take it")
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        assert row(factory, second_id).status == "queued"
        with factory() as s:
            outbox.deliver(s, first_id, row(factory, first_id).next_attempt_at, twilio)
    assert row(factory, first_id).status == "failed"
    assert row(factory, second_id).status == "sent"
    assert bodies_sent() == ["Your spot opened"] * outbox.MAX_ATTEMPTS + ["Reply YES to take it"]


@responses.activate
def test_a_turns_replies_keep_their_order_through_a_429(org, factory, twilio) -> None:
    """A worker's or a rows-and-buttons turn: one job sends the replies in order."""
    responses.post(API, json={"sid": "SM" + "4" * 32, "status": "queued"}, status=201)
    responses.post(API, json=TOO_MANY, status=429)
    responses.post(API, json={"sid": "SM" + "5" * 32, "status": "queued"}, status=201)
    responses.post(API, json={"sid": "SM" + "6" * 32, "status": "queued"}, status=201)
    responses.post(API, json={"sid": "SM" + "7" * 32, "status": "queued"}, status=201)
    with twilio.sessions() as s:
        org_ = s.scalar(select(Organization))
        get_or_create_customer(s, org_, CUSTOMER, utcnow(), name="Ada")
        rows = outbox.queue_replies(
            s,
            org_,
            None,
            outbox.queue(s, org_, "+12025550199", "someone else", utcnow())[0].id,
            channel=Channel.SMS,
            from_phone="+15005550006",
            to_phone=CUSTOMER,
            replies=[outbox.Reply("one"), outbox.Reply("two"), outbox.Reply("three")],
            now=utcnow(),
        )
        ids = [r.id for r in rows]
        outbox.commit_and_send(s, JobQueue.of(twilio))
    assert bodies_sent() == ["someone else", "one"]  # "two" and "three" wait behind "one"
    assert [row(factory, i).status for i in ids] == ["retrying", "queued", "queued"]
    with factory() as s:
        one = s.get_one(Message, ids[0])
        assert outbox.deliver(s, ids[0], one.next_attempt_at, twilio) == "sent"
    assert bodies_sent() == ["someone else", "one", "one", "two", "three"]
    assert [row(factory, i).status for i in ids] == ["sent", "sent", "sent"]


@responses.activate
def test_a_reply_retried_after_the_customer_opted_out_is_not_sent(org, factory, twilio) -> None:
    """STOP holds for an answer to an earlier message still due (a retry, a lost job); the
    answer to STOP itself, and to what they write after it, still goes."""
    responses.post(API, json={"sid": "SM" + "8" * 32, "status": "queued"}, status=201)
    asked, stopped = utcnow() - timedelta(minutes=5), utcnow()

    def answered(s: Session, org_: Organization, body: str, at: datetime) -> int:
        question = Message(
            organization_id=org_.id,
            direction="inbound",
            channel=Channel.SMS,
            from_phone=CUSTOMER,
            to_phone="+15005550006",
            body=body,
            status="received",
            kind="customer",
            created_at=at,
            updated_at=at,
        )
        s.add(question)
        s.flush()
        (reply,) = outbox.queue_replies(
            s,
            org_,
            None,
            question.id,
            channel=Channel.SMS,
            from_phone="+15005550006",
            to_phone=CUSTOMER,
            replies=[outbox.Reply(f"answer to {body}")],
            now=at,
        )
        return reply.id

    with twilio.sessions() as s:
        org_ = s.scalar(select(Organization))
        customer, _ = get_or_create_customer(s, org_, CUSTOMER, asked, name="Ada")
        before = answered(s, org_, "sunset tour?", asked)
        outbox.commit_queued(s)  # its delivery lost: due, for the sweep
        customer.opted_out, customer.opted_out_at = True, stopped
        confirmation = answered(s, org_, "STOP", stopped)
        outbox.commit_queued(s)
    with factory() as s:
        assert outbox.deliver(s, before, utcnow(), twilio) == "suppressed"
        assert outbox.deliver(s, confirmation, utcnow(), twilio) == "sent"
    assert bodies_sent() == ["answer to STOP"]
