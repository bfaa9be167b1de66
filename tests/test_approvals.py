"""Owner approval by link: confirm, decline, timeout, forged, expired and reused tokens,
CSRF, and the token kept out of request logs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Booking, Message, Organization, Payment, utcnow
from services import approvals, jobs, payments, ratelimit
from services.approvals import ApprovalError
from services.payments import PaymentError
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.test_conversations import day, live_catalog, spoken

OWNER = "+15551230000"


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    data = live_catalog()
    data["organization"]["settings"]["approval_required"] = True
    data["organization"]["settings"]["approval_timeout_hours"] = 4
    with factory() as s:
        import_org(s, utcnow(), **data)
    return create_app(config)


def pencil_in(client: FlaskClient, factory: sessionmaker[Session]) -> tuple[Chat, str, str]:
    """A customer holds 2 seats by chat; returns the chat, the booking reference, the token."""
    ada = Chat(client, factory, phone="+12025550101", name="Ada")
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    ada.say("1")
    reply = ada.say("yes")
    assert "pencilled in" in reply
    ref = re.search(r"BK-[A-Z0-9]{5}", reply).group(0)
    with factory() as s:
        note = s.scalar(
            select(Message.body).where(Message.to_phone == OWNER, Message.body.contains(ref))
        )
        assert (
            s.scalar(select(Booking.status).where(Booking.reference == ref)) == "pending_approval"
        )
    token = re.search(r"/approve/(\S+)", note).group(1)
    return ada, ref, token


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def pay_link(factory: sessionmaker[Session], ref: str) -> str:
    """The path of the booking's pay link, as its messages carry it."""
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        return f"/pay/{ref}/{booking.pay_token}"


def status(factory: sessionmaker[Session], ref: str) -> str:
    with factory() as s:
        return s.scalar(select(Booking.status).where(Booking.reference == ref))


def test_confirm_by_link_then_the_link_is_spent(client: FlaskClient, factory) -> None:
    ada, ref, token = pencil_in(client, factory)
    page = client.get(f"/approve/{token}")
    assert page.status_code == 200 and ref.encode() in page.data and b"Ada" in page.data
    assert (
        client.post(f"/approve/{token}", data={"action": "confirm"}).status_code == 400
    )  # no CSRF token
    assert status(factory, ref) == "pending_approval"
    done = client.post(
        f"/approve/{token}", data={"action": "confirm", "csrf_token": csrf_of(page.data)}
    )
    assert done.status_code == 200 and b"confirmed" in done.data
    assert status(factory, ref) == "confirmed"
    assert any(
        "Good news" in m.body and "/pay/" in m.body for m in ada.outbox() if m.to_phone == ada.phone
    )
    reused = client.get(f"/approve/{token}")
    assert reused.status_code == 410 and b"already been used" in reused.data


def test_decline_frees_the_seats_and_offers_other_dates(client: FlaskClient, factory) -> None:
    ada, ref, token = pencil_in(client, factory)
    page = client.get(f"/approve/{token}")
    client.post(f"/approve/{token}", data={"action": "decline", "csrf_token": csrf_of(page.data)})
    assert status(factory, ref) == "cancelled"
    [sorry] = [m.body for m in ada.outbox() if m.to_phone == ada.phone and "can't take" in m.body]
    assert "We do have room on" in sorry


def test_no_answer_in_time_expires_and_asks_the_customer_to_call(
    client: FlaskClient, factory, runtime
) -> None:
    ada, ref, token = pencil_in(client, factory)
    jobs.run_sweep(runtime, utcnow() + timedelta(hours=4, minutes=1))
    assert status(factory, ref) == "expired"
    assert any(
        "couldn't confirm" in m.body and "call us" in m.body
        for m in ada.outbox()
        if m.to_phone == ada.phone
    )
    assert client.get(f"/approve/{token}").status_code == 410


def test_forged_and_expired_tokens_change_nothing(client: FlaskClient, factory, app: Flask) -> None:
    _, ref, token = pencil_in(client, factory)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    page = client.get(f"/approve/{forged}")
    assert page.status_code == 410 and b"not valid" in page.data
    assert client.get("/approve/not-a-token-at-all").status_code == 410
    with factory() as s, pytest.raises(ApprovalError, match="expired"):
        approvals.booking_for_token(s, token, secret=app.config["SECRET_KEY"], max_age_hours=-1)
    assert status(factory, ref) == "pending_approval"


def test_without_approval_required_holds_go_straight_to_payment(pg_url: str, factory) -> None:
    with factory() as s:
        import_org(s, utcnow(), **live_catalog())
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    ada = Chat(create_app(config).test_client(), factory, phone="+12025550101")
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    ada.say("1")
    assert "Payment link" in ada.say("yes")


def test_without_an_owner_phone_ops_get_the_link(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    data = live_catalog()
    data["organization"]["settings"]["approval_required"] = True
    data["organization"].pop("owner_phone")
    with factory() as s:
        import_org(s, utcnow(), **data)
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN, config.PUBLIC_BASE_URL = AUTH_TOKEN, BASE_URL
    ada = Chat(create_app(config).test_client(), factory, phone="+12025550101")
    ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
    ada.say("1")
    assert "pencilled in" in ada.say("yes")
    assert any("/approve/" in m.body for m in ada.outbox() if m.to_phone == "+15551230002")


# --- a booking awaiting the owner is not payable ------------------------------------------


def test_the_pay_page_says_the_booking_awaits_approval_and_takes_no_money(
    client: FlaskClient, factory
) -> None:
    _, ref, token = pencil_in(client, factory)
    link = pay_link(factory, ref)
    page = client.get(link)
    assert page.status_code == 200 and b"awaits the operator&#39;s approval" in page.data
    assert b'name="kind"' not in page.data  # no pay buttons
    for kind in ("deposit", "full", "balance"):
        refused = client.post(link, data={"kind": kind})
        assert refused.status_code == 409 and b"awaits the operator&#39;s approval" in refused.data
    assert status(factory, ref) == "pending_approval"
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
    # Once the owner confirms, the customer pays what is due.
    approve_page = client.get(f"/approve/{token}")
    client.post(
        f"/approve/{token}", data={"action": "confirm", "csrf_token": csrf_of(approve_page.data)}
    )
    assert status(factory, ref) == "confirmed"
    page = client.get(link)
    assert b"approval" not in page.data
    # The page offers what the approval message asked for: the deposit (or the whole).
    with factory() as s:
        told = s.scalar(select(Message.body).where(Message.body.contains("Good news")))
    deposit = re.search(r"Pay the deposit \((\S+)\)", told)[1]  # type: ignore[index]
    assert f"Pay the deposit: {deposit}".encode() in page.data
    assert b'name="kind" value="full"' in page.data


def test_the_service_refuses_to_take_money_for_a_booking_awaiting_approval(
    client: FlaskClient, factory, app: Flask
) -> None:
    _, ref, _ = pencil_in(client, factory)
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert payments.payable_kinds(booking) == []
        with pytest.raises(PaymentError, match="awaits the operator's approval"):
            payments.start_checkout(
                s, org, booking, "deposit", utcnow(), BASE_URL, payments.StripeAccount(None)
            )
        # Money that arrives anyway (a checkout opened before this rule) is given back and
        # confirms nothing: the owner decides.
        payment = Payment(
            organization_id=org.id,
            booking_id=booking.id,
            kind="deposit",
            amount_minor=booking.deposit_minor,
            currency=booking.currency,
            provider="fake",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(payment)
        s.flush()
        fake = payments.StripeAccount(None)
        assert (
            payments.settle(
                s,
                org,
                payment,
                utcnow(),
                counts=ratelimit.counter(None),
                stripe=fake,
                source="fake",
            )
            == "refunded"
        )
        s.commit()
    with factory() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == ref))
        assert (booking.status, booking.paid_minor) == ("pending_approval", 0)
        assert s.scalar(select(Payment.refunded_minor)) == booking.deposit_minor
