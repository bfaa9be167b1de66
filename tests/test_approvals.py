"""Owner approval by link: confirm, decline, timeout, forged, expired and reused tokens,
CSRF, and the token kept out of request logs."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from extensions import app_config
from models import Booking, Message, Organization, Payment, utcnow
from services import approval_links, approvals, checkout, jobs, payments, ratelimit, settlement
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
    return ada, ref, sent_token(client, factory, note)


def sent_token(client: FlaskClient, factory: sessionmaker[Session], stored: str) -> str:
    """The token in the owner's message as it is sent: the stored body has a marker in its
    place, filled in at delivery (outbox.deliver) with the app's key."""
    with factory() as s:
        sent = approval_links.expand(s, stored, app_config(client.application))
    return re.search(r"/approve/(\S+)", sent).group(1)


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
            checkout.start_checkout(
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
            settlement.settle(
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


# --- used up atomically; never in the communications log (issue 16) ------------------------


def race_confirm_and_decline(app: Flask, factory: sessionmaker[Session], n: int) -> None:
    ada = Chat(app.test_client(), factory, phone=f"+1202555020{n}", name="Ada")
    ada.say(f"sunset tour on {spoken(day(6 + n))} for 2 adults")
    ada.say("1")
    ref = re.search(r"BK-[A-Z0-9]{5}", ada.say("yes")).group(0)  # type: ignore[union-attr]
    with factory() as s:
        note = s.scalar(
            select(Message.body).where(Message.to_phone == OWNER, Message.body.contains(ref))
        )
    token = sent_token(ada.client, factory, note)
    clients = [app.test_client(), app.test_client()]
    csrf = [csrf_of(c.get(f"/approve/{token}").data) for c in clients]
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def click(i: int, action: str) -> None:
        start.wait()
        response = clients[i].post(
            f"/approve/{token}", data={"action": action, "csrf_token": csrf[i]}
        )
        answers[action] = response.status_code

    threads = [
        threading.Thread(target=click, args=(0, "confirm")),
        threading.Thread(target=click, args=(1, "decline")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(answers.values()) == [200, 410], answers
    final = status(factory, ref)
    assert final == ("confirmed" if answers["confirm"] == 200 else "cancelled"), answers
    with factory() as s:
        told = list(
            s.scalars(
                select(Message.body).where(
                    Message.to_phone == ada.phone, Message.body.contains(ref)
                )
            )
        )
    assert sum("Good news" in m or "can't take" in m for m in told) == 1


def test_simultaneous_confirm_and_decline_one_wins(app: Flask, factory) -> None:
    """Two clicks at once (the owner's confirm, someone else's decline) on the same link:
    exactly one takes effect. Both did: the decline cancelled the booking just confirmed.
    Three rounds, as either may reach the database first."""
    for n in range(3):
        race_confirm_and_decline(app, factory, n)


def test_the_approval_link_is_never_in_the_stored_log_or_the_api(
    pg_url: str, factory: sessionmaker[Session]
) -> None:
    """Sent to the owner with a working link (through Twilio's API, mocked), but the stored
    message, and so GET /api/v1/messages, has only a marker: an API token once declined a
    booking with the link the API showed."""
    from services import api_tokens
    from tests.test_outbox import ACCOUNT, API

    config = TestConfig()
    config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN = ACCOUNT, AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    data = live_catalog()
    data["organization"]["settings"]["approval_required"] = True
    with factory() as s:
        org = import_org(s, utcnow(), **data)
        api_token = api_tokens.create_token(s, org, utcnow())
        s.commit()
    client = create_app(config).test_client()
    with responses.RequestsMock() as twilio:
        sids = iter(range(10**6, 10**7))
        twilio.add_callback(
            responses.POST,
            API,
            callback=lambda r: (201, {}, json.dumps({"sid": f"SM{next(sids):032d}"})),
        )
        ada = Chat(client, factory, phone="+12025550101", name="Ada")
        ada.say(f"sunset tour on {spoken(day(6))} for 2 adults")
        ada.say("1")
        assert "pencilled in" in ada.say("yes")
        to_owner = [
            parse_qs(c.request.body)["Body"][0]
            for c in twilio.calls
            if parse_qs(c.request.body)["To"] == [OWNER]
        ]
    [sent] = [body for body in to_owner if "/approve/" in body]
    token = re.search(r"/approve/(\S+)", sent).group(1)  # type: ignore[union-attr]
    assert token.count(".") == 2 and "{" not in token  # a real signed token was sent
    with factory() as s:
        stored = s.scalar(select(Message.body).where(Message.body.contains("/approve/")))
    assert token not in stored and "{approval-link:" in stored
    listed = client.get("/api/v1/messages", headers={"Authorization": f"Bearer {api_token}"})
    assert listed.status_code == 200 and "Approval needed" in listed.text
    assert token not in listed.text
    assert not re.search(r"/approve/[\w-]+\.[\w-]+\.[\w-]+", listed.text)
    # And the link as sent works.
    page = client.get(f"/approve/{token}")
    assert page.status_code == 200 and b"Confirm" in page.data
