"""The Twilio webhooks: signatures, routing, MessageSid idempotency, TwiML, status
callbacks, opt-out keywords, and hostile input that must never cause a 500."""

from __future__ import annotations

import contextlib
import hashlib
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from app import create_app
from cli.chat import inbound_form
from config import TestConfig
from models import Customer, Lead, Message
from services import outbox
from tests.chat import AUTH_TOKEN, BASE_URL, SMS_NUMBER, WHATSAPP_NUMBER, Chat
from tests.conftest import import_org

PATH = "/webhooks/twilio/messages"


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    with factory() as s:
        import_org(s)
    return create_app(config)


@pytest.fixture
def chat(client: FlaskClient, factory: sessionmaker[Session]) -> Chat:
    return Chat(client, factory, name="Ada")


def sign(url: str, form: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, form)


def count(factory: sessionmaker[Session], model) -> int:  # type: ignore[no-untyped-def]
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def twiml_bodies(data: bytes) -> list[str]:
    return [(m.findtext("Body") or m.text or "") for m in ET.fromstring(data).iter("Message")]


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong"])
def test_unsigned_or_wrongly_signed_requests_get_403_and_change_nothing(
    client: FlaskClient, factory: sessionmaker[Session], signature: str | None
) -> None:
    form = inbound_form("whatsapp:+12025550101", f"whatsapp:{WHATSAPP_NUMBER}", "hi")
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    response = client.post(PATH, data=form, headers=headers, base_url=BASE_URL)
    assert response.status_code == 403
    assert count(factory, Message) == 0 and count(factory, Customer) == 0


def test_signature_over_other_params_is_refused(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    form = inbound_form("+12025550101", SMS_NUMBER, "hi")
    signature = sign(BASE_URL + PATH, form)
    form["Body"] = "tampered"
    assert (
        client.post(
            PATH, data=form, headers={"X-Twilio-Signature": signature}, base_url=BASE_URL
        ).status_code
        == 403
    )
    assert count(factory, Message) == 0


@pytest.mark.parametrize(("proxies", "status"), [(1, 200), (0, 403)])
def test_forwarded_scheme_and_host_are_believed_only_from_a_configured_proxy(
    pg_url: str, factory, proxies: int, status: int
) -> None:
    """Without PUBLIC_BASE_URL (the embedded default only), the signed URL is the one the
    request arrived at: as the TRUSTED_PROXIES in front say, and never as a client says
    (it used to be read from X-Forwarded-* whoever sent them)."""
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.TRUSTED_PROXIES = proxies
    with factory() as s:
        import_org(s)
    proxied = create_app(config).test_client()
    form = inbound_form("+12025550101", SMS_NUMBER, "hi")
    headers = {
        "X-Twilio-Signature": sign("https://public.example.org" + PATH, form),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "public.example.org",
    }
    response = proxied.post(PATH, data=form, headers=headers, base_url="http://10.0.0.5:8000")
    assert response.status_code == status
    assert (count(factory, Message) > 0) == (status == 200)


def test_with_a_public_base_url_forwarded_headers_cannot_move_the_signed_url(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    form = inbound_form("+12025550101", SMS_NUMBER, "hi")
    headers = {
        "X-Twilio-Signature": sign("https://evil.example" + PATH, form),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
    }
    assert client.post(PATH, data=form, headers=headers, base_url=BASE_URL).status_code == 403
    assert count(factory, Message) == 0


def test_reply_is_twiml_for_the_sender(chat: Chat) -> None:
    reply = chat.say("hello")
    assert "Adventure Treks" in reply and "AGENT" in reply


def test_unknown_number_gets_empty_twiml_and_a_warning(
    client: FlaskClient, factory, caplog
) -> None:
    form = inbound_form("+12025550101", "+12025550999", "hi")
    response = client.post(
        PATH,
        data=form,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, form)},
        base_url=BASE_URL,
    )
    assert response.status_code == 200 and twiml_bodies(response.data) == []
    assert "no organization owns" in caplog.text
    assert "+12025550999" not in caplog.text  # phone numbers are masked in logs
    assert count(factory, Message) == 0


def test_repeated_message_sid_gets_the_same_reply_and_no_second_side_effect(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    form = inbound_form(
        "whatsapp:+12025550101",
        f"whatsapp:{WHATSAPP_NUMBER}",
        "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March",
    )
    headers = {"X-Twilio-Signature": sign(BASE_URL + PATH, form)}
    first = client.post(PATH, data=form, headers=headers, base_url=BASE_URL)
    again = client.post(PATH, data=form, headers=headers, base_url=BASE_URL)
    assert first.status_code == again.status_code == 200
    assert twiml_bodies(first.data) == twiml_bodies(again.data) != []
    assert count(factory, Lead) == 1
    with factory() as s:
        assert s.scalar(select(func.count()).where(Message.direction == "inbound")) == 1
        assert s.scalar(select(func.count()).where(Message.kind == "staff")) == 1


def test_nul_bytes_and_media_are_handled(chat: Chat, factory: sessionmaker[Session]) -> None:
    form = chat.form("he\x00llo")
    form.update(
        {
            "NumMedia": "2",
            "MediaUrl0": "https://api.twilio.com/m/1.jpg",
            "MediaUrl1": "https://x/2.jpg",
        }
    )
    from cli.chat import post_inbound

    status, _ = post_inbound(chat.client, form, AUTH_TOKEN, BASE_URL)
    assert status == 200
    with factory() as s:
        msg = s.scalar(select(Message).where(Message.direction == "inbound"))
        assert msg.body == "hello" and msg.media == [
            "https://api.twilio.com/m/1.jpg",
            "https://x/2.jpg",
        ]


def test_long_replies_are_split_at_line_breaks() -> None:
    lines = [f"line {i}: " + "x" * 90 for i in range(40)]
    parts = outbox.split_body("\n".join(lines))
    assert len(parts) == 3 and all(len(p) <= 1600 for p in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing cut, split only between lines
    assert all(len(p) <= 1600 for p in outbox.split_body("word " * 1000))


# --- delivery statuses -------------------------------------------------------------------


def post_status(client: FlaskClient, sid: str, status: str, error: str | None = None):  # type: ignore[no-untyped-def]
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if error:
        form["ErrorCode"] = error
    url = BASE_URL + "/webhooks/twilio/status"
    return client.post(
        "/webhooks/twilio/status",
        data=form,
        headers={"X-Twilio-Signature": sign(url, form)},
        base_url=BASE_URL,
    )


@pytest.fixture
def sent_message(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        row = Message(
            organization_id=1,
            direction="outbound",
            channel="sms",
            from_phone=SMS_NUMBER,
            to_phone="+12025550101",
            body="hello",
            status="sent",
            provider_sid="SM" + "a" * 32,
            kind="notification",
            created_at=outbox.utcnow(),
            updated_at=outbox.utcnow(),
        )
        s.add(row)
        s.commit()
        return row.id


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sending", "sent", "delivered", "read"], "read"),
        (["read", "delivered", "sent"], "read"),  # late callbacks never move it back
        (["delivered", "sending"], "delivered"),
        (["undelivered"], "undelivered"),
    ],
)
def test_status_callbacks_in_and_out_of_order(
    client: FlaskClient, factory, sent_message: int, sequence: list[str], final: str
) -> None:
    for status in sequence:
        assert post_status(client, "SM" + "a" * 32, status).status_code == 204
    with factory() as s:
        assert s.get(Message, sent_message).status == final


def test_failed_status_records_the_error_code(
    client: FlaskClient, factory, sent_message: int
) -> None:
    post_status(client, "SM" + "a" * 32, "failed", "30008")
    with factory() as s:
        row = s.get(Message, sent_message)
        assert (row.status, row.error_code) == ("failed", "30008")


def test_status_callback_needs_a_signature_and_tolerates_unknown_sids(
    client: FlaskClient, sent_message
) -> None:
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "read"}
    assert client.post("/webhooks/twilio/status", data=form, base_url=BASE_URL).status_code == 403
    assert post_status(client, "SM" + "f" * 32, "delivered").status_code == 204
    assert post_status(client, "", "delivered").status_code == 400
    assert post_status(client, "SM\x00", "delivered").status_code == 400


def test_a_message_sid_twilio_would_never_send_is_refused_not_stored(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """Found by the fuzz test: a NUL in MessageSid reached PostgreSQL and gave a 500."""
    for sid in ("\x00", "SM\x00abc", "SM 123", "SM-1"):
        form = {"From": "+12025550101", "To": SMS_NUMBER, "Body": "hi", "MessageSid": sid}
        response = client.post(
            PATH,
            data=form,
            headers={"X-Twilio-Signature": sign(BASE_URL + PATH, form)},
            base_url=BASE_URL,
        )
        assert response.status_code == 400, sid
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0


def test_a_signed_message_cannot_be_replayed_under_a_new_message_sid(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """Twilio's signature runs names and values together, so moving "NumMedia" + "0" into
    the MessageSid keeps the signature valid; only Twilio's exact SID format refuses it
    (it passed as a second message, answered and acted on twice)."""
    form = inbound_form("+12025550101", SMS_NUMBER, "I'd like to talk to a person")
    headers = {"X-Twilio-Signature": sign(BASE_URL + PATH, form)}
    assert client.post(PATH, data=form, headers=headers, base_url=BASE_URL).status_code == 200
    replay = {k: v for k, v in form.items() if k != "NumMedia"}
    replay["MessageSid"] = form["MessageSid"] + "NumMedia0"
    assert RequestValidator(AUTH_TOKEN).validate(
        BASE_URL + PATH, replay, headers["X-Twilio-Signature"]
    )
    response = client.post(PATH, data=replay, headers=headers, base_url=BASE_URL)
    assert response.status_code == 400
    with factory() as s:
        assert s.scalar(select(func.count()).where(Message.direction == "inbound")) == 1


@pytest.mark.parametrize(
    "sid",
    [
        "SM" + "a" * 31,  # one digit short
        "SM" + "a" * 33,
        "SM" + "A" * 32,  # Twilio writes lowercase hex
        "SM" + "g" * 32,
        "XX" + "a" * 32,
        "SMabc",
    ],
)
def test_only_twilios_exact_sid_format_is_accepted(client: FlaskClient, sid: str) -> None:
    form = {**inbound_form("+12025550101", SMS_NUMBER, "hi"), "MessageSid": sid}
    headers = {"X-Twilio-Signature": sign(BASE_URL + PATH, form)}
    assert client.post(PATH, data=form, headers=headers, base_url=BASE_URL).status_code == 400
    status = {"MessageSid": sid, "MessageStatus": "delivered"}
    headers = {"X-Twilio-Signature": sign(BASE_URL + "/webhooks/twilio/status", status)}
    response = client.post(
        "/webhooks/twilio/status", data=status, headers=headers, base_url=BASE_URL
    )
    assert response.status_code == 400


def test_a_message_sid_reused_by_another_sender_gets_none_of_the_first_replies(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """A repeated MessageSid is looked up within its own organization and sender: the
    replies to someone else's message (their booking, their name) are never sent here."""
    ada = inbound_form("+12025550101", SMS_NUMBER, "sunset tour for 2, my name is Ada Lovelace")
    first = client.post(
        PATH,
        data=ada,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, ada)},
        base_url=BASE_URL,
    )
    assert first.status_code == 200 and twiml_bodies(first.data)
    mallory = {**inbound_form("+12025550166", SMS_NUMBER, "hi"), "MessageSid": ada["MessageSid"]}
    again = client.post(
        PATH,
        data=mallory,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, mallory)},
        base_url=BASE_URL,
    )
    assert again.status_code == 400
    assert b"Ada" not in again.data and b"Message>" not in again.data
    with factory() as s:
        assert s.scalar(select(func.count()).where(Message.from_phone == "+12025550166")) == 0


def test_a_message_sid_reused_at_another_organization_gets_none_of_the_first_replies(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    """The same sender, the same MessageSid, another organization's number: not a retry
    (Twilio's SIDs are unique), so the first organization's replies are not sent again and
    nothing is stored for the second."""
    from tests.factories import catalog_data

    other_number = "+15005550009"
    with factory() as s:
        org = {**catalog_data()["organization"], "slug": "other-co", "numbers": [other_number]}
        import_org(s, organization=org, staff=[], guides=[], tours=[])
    ada = inbound_form("+12025550101", SMS_NUMBER, "sunset tour for 2, my name is Ada Lovelace")
    first = client.post(
        PATH,
        data=ada,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, ada)},
        base_url=BASE_URL,
    )
    assert first.status_code == 200 and twiml_bodies(first.data)
    elsewhere = {
        **inbound_form("+12025550101", other_number, "hi"),
        "MessageSid": ada["MessageSid"],
    }
    again = client.post(
        PATH,
        data=elsewhere,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, elsewhere)},
        base_url=BASE_URL,
    )
    assert again.status_code == 400
    assert b"Ada" not in again.data and b"Message>" not in again.data
    with factory() as s:
        assert s.scalar(select(func.count()).where(Message.to_phone == other_number)) == 0


# --- opt-out and help ----------------------------------------------------------------------


def test_stop_start_help_on_whatsapp(chat: Chat, factory: sessionmaker[Session]) -> None:
    assert "unsubscribed" in chat.say("STOP")
    with factory() as s:
        assert s.scalar(select(Customer.opted_out))
    assert chat.say("hello?") == ""  # nothing but the confirmation
    with factory() as s:
        org_customer = s.scalar(select(Customer))
        from models import Organization

        org = s.scalar(select(Organization))
        rows = outbox.queue(
            s, org, org_customer.phone, "a spot opened", outbox.utcnow(), channel="whatsapp"
        )
        s.commit()
        assert rows[0].status == "suppressed"
    assert "subscribed" in chat.say("start")
    assert "STOP" in chat.say("HELP") and "+1" in chat.say("help")


def test_stop_on_sms_is_left_to_twilio(client: FlaskClient, factory) -> None:
    sms = Chat(client, factory, phone="+12025550102", whatsapp=False)
    assert sms.say("Stop") == ""  # Twilio confirms SMS opt-outs itself
    with factory() as s:
        assert s.scalar(select(Customer.opted_out))


# --- hostile input -------------------------------------------------------------------------


FIELDS = st.dictionaries(
    st.sampled_from(
        [
            "From",
            "To",
            "Body",
            "MessageSid",
            "NumMedia",
            "MediaUrl0",
            "ProfileName",
            "SmsSid",
            "Latitude",
            "Longitude",
            "Label",
            "Address",
            "X",
        ]
    ),
    st.one_of(
        st.text(max_size=300),
        st.sampled_from(
            [
                "whatsapp:+12025550101",
                f"whatsapp:{WHATSAPP_NUMBER}",
                SMS_NUMBER,
                "+1",
                "whatsapp:",
                "99999999999999999999",
                "x" * 10_000,
                "🙂" * 50,
                "-1",
                "1e9",
                "27.7153",
                "nan",
                "inf",
                "-180.0",
            ]
        ),
    ),
)


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(form=FIELDS)
def test_hostile_bodies_never_cause_a_500(client: FlaskClient, form: dict[str, str]) -> None:
    form = {k: v for k, v in form.items()}
    form.setdefault(
        "MessageSid", "SM" + hashlib.md5(str(sorted(form.items())).encode()).hexdigest()
    )
    response = client.post(
        PATH,
        data=form,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, form)},
        base_url=BASE_URL,
    )
    if response.status_code == 413:  # several 10,000-character fields: over the 64 KB limit
        assert len(urlencode(form)) > 60_000, "a small body refused as too large"
        return
    assert response.status_code in (200, 400), response.data[:300]
    if response.status_code == 200:
        ET.fromstring(response.data)  # always well-formed TwiML


def test_the_same_message_delivered_twice_at_once(
    app: Flask, factory: sessionmaker[Session]
) -> None:
    """Two deliveries of one MessageSid racing each other: one handles it, the other waits
    on the unique MessageSid and answers with the same replies; one lead, one inbound row."""
    import threading

    form = inbound_form(
        "whatsapp:+12025550101",
        f"whatsapp:{WHATSAPP_NUMBER}",
        "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March",
    )
    headers = {"X-Twilio-Signature": sign(BASE_URL + PATH, form)}
    # Warm up from another customer (loads the NLU model), so the two deliveries overlap.
    warm = inbound_form("whatsapp:+12025550199", f"whatsapp:{WHATSAPP_NUMBER}", "Hi, food tour?")
    app.test_client().post(
        PATH,
        data=warm,
        headers={"X-Twilio-Signature": sign(BASE_URL + PATH, warm)},
        base_url=BASE_URL,
    )
    start = threading.Barrier(2)
    results: list[tuple[int, list[str]]] = []

    def deliver() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(PATH, data=form, headers=headers, base_url=BASE_URL)
        results.append((response.status_code, twiml_bodies(response.data)))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [status for status, _ in results] == [200, 200]
    assert results[0][1] == results[1][1] != []
    with factory() as s:
        assert s.scalar(select(func.count()).where(Message.provider_sid == form["MessageSid"])) == 1
        racer = s.scalar(select(Customer).where(Customer.phone == "+12025550101"))
        assert s.scalar(select(func.count()).where(Lead.customer_id == racer.id)) == 1


def test_a_database_connection_cut_mid_request_is_retried_not_a_500(
    chat: Chat, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the soak run: pg_terminate_backend (or a PostgreSQL restart) during a
    webhook gave Twilio a 500. The webhook now runs once more on a fresh connection."""
    from sqlalchemy import text

    import webhooks.twilio as twilio_webhook

    real = twilio_webhook.handle_inbound
    cuts = []

    def cut_once(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not cuts:
            cuts.append(1)
            with factory() as admin:  # kill this request's own connection, as ops would
                pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return real(session, *args, **kwargs)

    monkeypatch.setattr(twilio_webhook, "handle_inbound", cut_once)
    reply = chat.say("hello")  # asserts a 200
    assert reply and cuts == [1]
    assert count(factory, Message) >= 2  # the inbound message and its reply, stored once
    with factory() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.provider_sid == chat.sids[-1])
            )
            == 1
        )


def test_a_connection_cut_under_code_that_carries_on_is_retried_not_a_500(
    chat: Chat, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the soak run with the proxy: pg_terminate_backend in the middle of a hold,
    whose failure the bot catches and answers ("hold failed unexpectedly"), left the
    request's transaction dead; the next statement raised PendingRollbackError, a 500."""
    from sqlalchemy import text

    import webhooks.twilio as twilio_webhook

    real = twilio_webhook.handle_inbound
    cuts = []

    def cut_and_carry_on(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not cuts:
            cuts.append(1)
            with factory() as admin:
                pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            # It fails (the connection is gone), and the caller carries on, as bot code
            # that logs the error and answers the customer does.
            with contextlib.suppress(Exception):
                session.execute(text("SELECT 1"))
        return real(session, *args, **kwargs)

    monkeypatch.setattr(twilio_webhook, "handle_inbound", cut_and_carry_on)
    assert chat.say("hello") and cuts == [1]  # a 200, answered once
    with factory() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.provider_sid == chat.sids[-1])
            )
            == 1
        )


def test_a_gunicorn_worker_loads_the_nlu_before_its_first_message(app: Flask) -> None:
    """gunicorn.conf.py: the NLU is built when the worker starts (not during a customer's
    message), what the worker loaded is frozen out of the garbage collector's view, and
    young collections run less often."""
    import gc
    import logging
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    from bot import inbound
    from services.runtime import GC_THRESHOLDS

    thresholds = gc.get_threshold()
    hooks = runpy.run_path(str(Path(__file__).parents[1] / "gunicorn.conf.py"))
    inbound.nlu_for.cache_clear()
    try:
        hooks["post_worker_init"](SimpleNamespace(wsgi=app, log=logging.getLogger("test")))
        assert inbound.nlu_for.cache_info().currsize == 1
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLDS != thresholds
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
