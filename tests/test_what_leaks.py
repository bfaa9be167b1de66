"""What leaks: tracebacks and database errors in the log carry no customer's number or
words; customers' text reaches staff quoted, trimmed and with links defanged, and one
customer pages staff only so often; every page has a Content-Security-Policy; /health
tells strangers only "ok"."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

import log_redaction
import webhooks.twilio as twilio_webhook
from app import create_app
from config import TestConfig
from models import utcnow
from services import notify, payments
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.staff import StaffClient, make_staff
from tests.test_approvals import csrf_of, pay_link, pencil_in
from tests.test_conversations import app as conversations_app
from tests.test_conversations import live_catalog
from tests.test_production_config import COMPLETE

app = conversations_app  # the live test catalog, Twilio signatures on
OWNER_PHONE = "+15551230000"


@pytest.fixture(autouse=True)
def redaction() -> None:
    log_redaction.install()


def test_a_traceback_in_the_log_carries_no_number_or_token(
    client: FlaskClient,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def crash(session, sender, msg, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"could not answer {msg.from_phone} (token tb_AbCdEfGh12345678x)")

    monkeypatch.setattr(twilio_webhook, "handle_inbound", crash)
    caplog.set_level(logging.ERROR)
    chat = Chat(client, factory, phone="+12025550187", whatsapp=False)
    with pytest.raises(AssertionError, match="500"):
        chat.say("hello")
    assert "RuntimeError: could not answer +12*******87" in caplog.text  # the traceback
    assert "2025550187" not in caplog.text and "AbCdEfGh" not in caplog.text


def test_a_database_error_in_the_log_carries_no_message_body_or_number(
    client: FlaskClient,
    factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The engine hides a failed statement's parameters, and PostgreSQL's "Failing row
    contains (...)" is cut from the log: both quoted the customer's message."""

    def bad_insert(session, sender, msg, *args, **kwargs):  # type: ignore[no-untyped-def]
        session.execute(
            text("INSERT INTO messages (body, from_phone) VALUES (:body, :phone)"),
            {"body": msg.body, "phone": msg.from_phone},
        )

    monkeypatch.setattr(twilio_webhook, "handle_inbound", bad_insert)
    caplog.set_level(logging.ERROR)
    chat = Chat(client, factory, phone="+12025550188", whatsapp=False)
    with pytest.raises(AssertionError, match="500"):
        chat.say("my passport number is X1234567")
    assert "IntegrityError" in caplog.text and "Failing row contains (...)" in caplog.text
    assert "X1234567" not in caplog.text and "2025550188" not in caplog.text


def staff_texts(chat: Chat) -> list[str]:
    return [m.body for m in chat.outbox() if m.kind == "staff"]


def test_a_customer_cannot_forge_a_block_with_a_link_in_a_staff_text(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    forged = (
        "I want to talk to a person.\n\nApproval needed for BK-12345: Sunset Tour, 2 people."
        "\nConfirm or decline by Sat 17:00: https://evil.example/approve/x " + "pad " * 100
    )
    mallory = Chat(
        client, factory, phone="+12025550189", name="Mal\nApproval needed www.evil.example"
    )
    mallory.say(forged)
    [page] = staff_texts(mallory)
    assert "\n" not in page  # their words and name cannot start a line of their own
    assert "“I want to talk to a person. Approval needed for BK-12345" in page
    assert "https://evil.example" not in page and "hxxps://evil[.]example/approve/x" in page
    assert "www.evil.example" not in page and "www[.]evil[.]example" in page
    assert len(page) < 400 and page.endswith("…”")


def test_one_customer_pages_staff_at_most_five_times_an_hour(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    loop = Chat(client, factory, phone="+12025550190")
    for _ in range(8):
        assert "to reply to you here" in loop.say("AGENT")
        loop.say("MENU")
    pages = staff_texts(loop)
    assert len(pages) == notify.STAFF_PAGES_PER_CUSTOMER.count == 5
    assert all(loop.phone in page for page in pages)
    other = Chat(client, factory, phone="+12025550191")
    other.say("AGENT")
    assert sum(other.phone in page for page in staff_texts(other)) == 1  # others get through


# --- every page has a Content-Security-Policy ---------------------------------------------


def assert_policy(response: TestResponse, what: str) -> None:
    """The response carries the policy, and its scripts (if any) this response's nonce."""
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy, what
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy, what
    nonce = re.search(r"'nonce-([^']+)'", policy)[1]  # type: ignore[index]
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert f'nonce="{nonce}"' in tag, (what, tag)
    assert not re.search(r"<[^>]+\son[a-z]+=", response.text), what  # no inline handlers


def test_every_page_has_a_content_security_policy_and_scripts_carry_its_nonce(
    app: Flask, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    with factory() as s:
        from models import Organization

        make_staff(s, s.query(Organization).one(), "owner", "owner@example.org")
    staff = StaffClient(client)
    staff.login("owner@example.org")
    for path in (
        "/admin/login",
        "/admin/",
        "/admin/inbox",
        "/pay/BK-AAAAA",
        "/approve/x",
        "/api/v1/departures",
        "/health",
        "/no-such-page",
    ):
        assert_policy(client.get(path), path)
    first, second = (
        re.search(
            r"'nonce-([^']+)'", client.get("/admin/inbox").headers["Content-Security-Policy"]
        )[1]  # type: ignore[index]
        for _ in range(2)
    )
    assert first != second  # a new nonce for every response


def test_pay_approval_and_error_pages_have_the_policy_too(
    pg_url: str, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages customers and owners open from a message (a real pay link, the fake
    checkout, an approval link before and after its use) and the error pages (too large,
    too many requests, a crash) carry it as much as the admin does."""
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    data = live_catalog()
    data["organization"]["settings"]["approval_required"] = True
    with factory() as s:
        import_org(s, utcnow(), **data)
    client = create_app(config).test_client()
    _, ref, token = pencil_in(client, factory)
    link, approve = pay_link(factory, ref), f"/approve/{token}"
    seen = {"pay page awaiting approval": client.get(link)}
    seen["approval page"] = page = client.get(approve)
    assert page.status_code == 200
    seen["approval confirmed"] = client.post(
        approve, data={"action": "confirm", "csrf_token": csrf_of(page.data)}
    )
    seen["approval link spent"] = client.get(approve)
    seen["pay page"] = client.get(link)
    seen["pay click"] = started = client.post(link, data={"kind": "deposit"})
    fake = started.headers["Location"].removeprefix(BASE_URL)
    seen["fake checkout"] = client.get(fake)
    seen["fake checkout paid"] = client.post(fake)
    seen["too large"] = client.post(link, data={"kind": "x" * 20_000})
    seen["pay link missing"] = client.get(f"/pay/{ref}/not-the-secret")
    guesser = client.application.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.40"
    for n in range(31):
        seen["too many requests"] = guesser.get(f"/pay/{ref}/guess{n}")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(payments, "booking_for_link", crash)
    seen["crash"] = client.get(link)
    statuses = {what: response.status_code for what, response in seen.items()}
    assert statuses == {
        "pay page awaiting approval": 200,
        "approval page": 200,
        "approval confirmed": 200,
        "approval link spent": 410,
        "pay page": 200,
        "pay click": 303,
        "fake checkout": 200,
        "fake checkout paid": 200,
        "too large": 413,
        "pay link missing": 404,
        "too many requests": 429,
        "crash": 500,
    }
    for what, response in seen.items():
        assert_policy(response, what)


# --- /health ------------------------------------------------------------------------------


def test_health_tells_strangers_only_ok_and_operators_the_details(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    config = TestConfig()
    config.HEALTH_TOKEN = "health-token-for-operators"
    client = create_app(config).test_client()
    plain = client.get("/health")
    assert plain.status_code == 200 and plain.text == "ok"
    assert client.get("/health", headers={"Authorization": "Bearer wrong"}).text == "ok"
    detailed = client.get("/health", headers={"Authorization": f"Bearer {config.HEALTH_TOKEN}"})
    assert detailed.json["checks"]["database"] == "ok" and detailed.json["checks"]["mode"]


def test_health_says_unavailable_without_saying_why() -> None:
    config_env = {**COMPLETE, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"}
    from config import Config

    down = create_app(Config(environ=config_env)).test_client().get("/health")
    assert down.status_code == 503 and down.text == "unavailable"
