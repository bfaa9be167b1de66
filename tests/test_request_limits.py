"""Request size: every route refuses a body over its limit with 413 before reading it (the
webhooks a few tens of KB), so a huge POST costs a worker nothing; nginx in front refuses
the same sizes (tests/test_proxy.py)."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from app import create_app
from cli.chat import inbound_form
from config import TestConfig
from models import Message
from tests.chat import AUTH_TOKEN, BASE_URL, SMS_NUMBER
from tests.conftest import import_org
from tests.staff import StaffClient, make_staff

TWILIO = "/webhooks/twilio/messages"
# Signature headers that are wrong but present, so each route goes as far as reading the
# body to check them (an unsigned request is refused before that, without reading).
SIGNED_LOOKING = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl", "Stripe-Signature": "t=1,v1=00"}


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    config.STRIPE_SECRET_KEY, config.STRIPE_WEBHOOK_SECRET = "sk_test_123", "whsec_test"
    with factory() as s:
        make_staff(s, import_org(s), "owner", "owner@example.org")
    return create_app(config)


class CountingStream(io.RawIOBase):
    """A request body that says how much of it was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), 65536)
        buffer[:n] = b"a" * n
        self.read_bytes += n
        return n


def stored(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


def test_a_signed_twilio_message_over_64_kb_is_refused(
    client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    form = inbound_form("+12025550101", SMS_NUMBER, "x" * 70_000)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(BASE_URL + TWILIO, form)
    response = client.post(
        TWILIO, data=form, headers={"X-Twilio-Signature": signature}, base_url=BASE_URL
    )
    assert response.status_code == 413 and response.json["error"] == "Request Entity Too Large"
    assert stored(factory) == 0


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (TWILIO, 64 * 1024),
        ("/webhooks/twilio/status", 64 * 1024),
        ("/webhooks/stripe", 256 * 1024),
        ("/pay/BK-AAAAA", 16 * 1024),
        ("/admin/login", 16 * 1024),
        ("/admin/inbox/1/reply", 256 * 1024),
    ],
)
def test_a_300_mb_body_is_refused_without_being_read(
    client: FlaskClient, path: str, limit: int
) -> None:
    body = CountingStream()
    response = client.post(
        path,
        content_type="application/x-www-form-urlencoded",
        base_url=BASE_URL,
        headers=SIGNED_LOOKING,
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(300 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert body.read_bytes == 0
    # Just over the route's limit is refused too; just under it is not refused for size.
    for size, refused in ((limit + 1, True), (limit - 1, False)):
        response = client.post(
            path,
            data=b"a" * size,
            content_type="application/x-www-form-urlencoded",
            base_url=BASE_URL,
            headers=SIGNED_LOOKING,
        )
        assert (response.status_code == 413) == refused, (size, response.status_code)


def test_a_page_says_too_large_in_words(client: FlaskClient) -> None:
    staff = StaffClient(client)
    staff.login("owner@example.org")
    response = client.post("/admin/inbox/1/reply", data={"body": "x" * 300_000})
    assert response.status_code == 413 and "Too Large" in response.text
    assert "Traceback" not in response.text
