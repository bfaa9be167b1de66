"""Payments: Stripe Checkout (API mocked with responses), the Stripe webhook (payloads
signed with stripe's own signing scheme), and the embedded default's fake checkout."""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Booking, Lead, Message, Organization, Payment, Refund, TimelineEvent, utcnow
from services import bookings, inventory, payments, ratelimit
from services.checkout import start_checkout
from tests.conftest import import_org
from tests.factories import catalog_data, departure, make_customer

SECRET = "whsec_test_secret"
API = "https://api.stripe.com/v1"


def stripe_config() -> TestConfig:
    config = TestConfig()
    config.STRIPE_SECRET_KEY, config.STRIPE_WEBHOOK_SECRET = "sk_test_123", SECRET
    config.PUBLIC_BASE_URL = "https://bot.example.com"
    return config


def live_catalog() -> dict:
    now = utcnow()
    data = catalog_data()
    data["tours"][2]["departures"] = [
        {"code": "CITYSOON", "start": f"{(now + timedelta(days=10)):%Y-%m-%d} 09:00", "capacity": 3}
    ]
    return data


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    with factory() as s:
        import_org(s, utcnow(), **live_catalog())
    return create_app(stripe_config())


def hold(
    factory: sessionmaker[Session], phone: str = "+12025550101", seats: int = 2, hours: int = 24
) -> int:
    with factory() as s:
        org = s.scalar(select(Organization))
        booking = inventory.hold_seats(
            s,
            org,
            departure(s, org, "CITYSOON"),
            make_customer(s, org, phone, utcnow()),
            {"adult": seats},
            utcnow(),
            source="whatsapp",
            hold_hours=hours,
        )
        s.commit()
        return booking.id


def checkout(factory: sessionmaker[Session], booking_id: int, kind: str) -> Payment:
    with factory() as s:
        org = s.scalar(select(Organization))
        payment, _ = start_checkout(
            s,
            org,
            s.get(Booking, booking_id),
            kind,
            utcnow(),
            "https://bot.example.com",
            payments.StripeAccount.of(stripe_config()),
        )
        s.commit()
        return payment


def event(kind: str, obj: dict, event_id: str = "evt_1") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": 1700000000,
        "data": {"object": obj},
    }


def post_event(client: FlaskClient, body: dict, secret: str = SECRET):  # type: ignore[no-untyped-def]
    payload = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def completed(payment: Payment, amount: int | None = None, event_id: str = "evt_1") -> dict:
    return event(
        "checkout.session.completed",
        {
            "id": payment.checkout_session_id,
            "object": "checkout.session",
            "payment_status": "paid",
            "amount_total": payment.amount_minor if amount is None else amount,
            "payment_intent": f"pi_{payment.id}",
            "metadata": {"payment_id": str(payment.id), "booking": "x"},
        },
        event_id,
    )


@pytest.fixture
def stripe_api() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        counter = iter(range(1, 1000))

        def new_session(request):  # type: ignore[no-untyped-def]
            sid = f"cs_test_{next(counter)}"
            body = {
                "id": sid,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/{sid}",
            }
            return 200, {}, json.dumps(body)

        mock.add_callback(responses.POST, f"{API}/checkout/sessions", callback=new_session)
        mock.post(f"{API}/refunds", json={"id": "re_1", "object": "refund", "status": "succeeded"})
        yield mock


def booking_row(factory: sessionmaker[Session], booking_id: int) -> Booking:
    with factory() as s:
        return s.get(Booking, booking_id)


def to_customer(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(
                select(Message.body).where(Message.to_phone == "+12025550101").order_by(Message.id)
            )
        )


def test_checkout_session_is_created_with_items_metadata_expiry_and_idempotency(
    app, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    assert payment.checkout_session_id == "cs_test_1" and payment.amount_minor == 5000
    request = stripe_api.calls[0].request
    form = parse_qs(request.body)
    assert form["mode"] == ["payment"] and form["metadata[payment_id]"] == [str(payment.id)]
    assert form["line_items[0][price_data][unit_amount]"] == ["2500"] and form[
        "line_items[0][quantity]"
    ] == ["2"]
    assert int(form["expires_at"][0]) <= int(
        booking_row(factory, booking_id).hold_expires_at.timestamp()
    )
    assert request.headers["Idempotency-Key"].startswith("checkout:")


def test_deposit_confirms_with_balance_due(client: FlaskClient, factory, stripe_api) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "deposit")
    assert post_event(client, completed(payment)).json["outcome"] == "confirmed"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor, booking.balance_minor) == ("confirmed", 1500, 3500)
    [confirmation] = [m for m in to_customer(factory) if "confirmed" in m]
    # 10 days out with the balance due 14 days before: due at once, and said so.
    assert "Paid: $15" in confirmation and "Balance: $35, due now" in confirmation
    page = client.get(link_path(factory, booking_id))
    assert b"Balance due now" in page.data
    # Later, the balance.
    balance = checkout(factory, booking_id, "balance")
    assert (
        post_event(client, completed(balance, event_id="evt_2")).json["outcome"] == "balance_paid"
    )
    assert booking_row(factory, booking_id).balance_minor == 0


def test_full_payment_confirms_and_paid(client: FlaskClient, factory, stripe_api) -> None:
    booking_id = hold(factory)
    assert post_event(client, completed(checkout(factory, booking_id, "full"))).status_code == 200
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.balance_minor) == ("confirmed", 0)
    assert any("paid in full" in m for m in to_customer(factory))


def test_replayed_event_counts_once(client: FlaskClient, factory, stripe_api) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "deposit")
    assert post_event(client, completed(payment)).json["outcome"] == "confirmed"
    assert post_event(client, completed(payment)).json["outcome"] == "duplicate"
    # The same money reported again by a different event type is not counted twice either.
    succeeded = event(
        "payment_intent.succeeded",
        {
            "id": f"pi_{payment.id}",
            "object": "payment_intent",
            "amount_received": 1500,
            "metadata": {"payment_id": str(payment.id)},
        },
        "evt_9",
    )
    assert post_event(client, succeeded).json["outcome"] == "already_paid"
    assert booking_row(factory, booking_id).paid_minor == 1500


def test_concurrent_duplicate_events_confirm_once(app: Flask, factory, stripe_api) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    bodies = [
        completed(payment, event_id="evt_a"),
        completed(payment, event_id="evt_a"),
        completed(payment, event_id="evt_b"),
    ]
    start = threading.Barrier(len(bodies))
    outcomes: list[str] = []

    def deliver(body: dict) -> None:
        client = app.test_client()
        start.wait()
        outcomes.append(post_event(client, body).json["outcome"])

    threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes).count("confirmed") == 1
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("confirmed", 5000)
    with factory() as s:
        confirmations = s.scalars(
            select(TimelineEvent).where(TimelineEvent.event_type == "booking.status_changed")
        )
        assert sum(e.content["to"] == "confirmed" for e in confirmations) == 1


@pytest.mark.parametrize("header", [None, "t=1,v1=deadbeef", "garbage"])
def test_bad_signature_is_refused_and_changes_nothing(
    client: FlaskClient, factory, stripe_api, header
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    headers = {"Stripe-Signature": header} if header else {}
    response = client.post("/webhooks/stripe", data=json.dumps(completed(payment)), headers=headers)
    assert response.status_code == 403
    assert post_event(client, completed(payment), secret="whsec_wrong").status_code == 403
    assert booking_row(factory, booking_id).status == "held"


def test_payment_after_expiry_with_seats_left_confirms(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory, hours=1)
    payment = checkout(factory, booking_id, "full")
    with factory() as s:  # the hold lapses and the sweep expires it
        bookings.expire_due_holds(s, utcnow() + timedelta(hours=2))
        s.commit()
    assert booking_row(factory, booking_id).status == "expired"
    assert post_event(client, completed(payment)).json["outcome"] == "confirmed"
    assert booking_row(factory, booking_id).status == "confirmed"


def test_payment_after_expiry_without_seats_is_refunded_at_once(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory, seats=2, hours=1)
    payment = checkout(factory, booking_id, "full")
    with factory() as s:
        bookings.expire_due_holds(s, utcnow() + timedelta(hours=2))
        s.commit()
    hold(factory, phone="+12025550102", seats=3)  # someone else takes every seat
    assert post_event(client, completed(payment)).json["outcome"] == "refunded"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("expired", 0)
    refund_call = [c for c in stripe_api.calls if c.request.url.endswith("/refunds")]
    assert len(refund_call) == 1 and parse_qs(refund_call[0].request.body)["amount"] == ["5000"]
    with factory() as s:
        assert s.scalar(select(Refund.amount_minor)) == 5000
        assert s.scalar(select(Payment.status)) == "refunded"
        assert (
            s.scalar(select(Lead).where(Lead.source == "booking_failed")).reason
            == "slot_unavailable"
        )
    assert any("refunded it in full" in m for m in to_customer(factory))


def test_dispute_is_recorded_and_the_owner_told(client: FlaskClient, factory, stripe_api) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    post_event(client, completed(payment))
    dispute = event(
        "charge.dispute.created",
        {
            "id": "dp_1",
            "object": "dispute",
            "amount": 5000,
            "reason": "fraudulent",
            "payment_intent": f"pi_{payment.id}",
        },
        "evt_d",
    )
    assert post_event(client, dispute).json["outcome"] == "disputed"
    with factory() as s:
        assert s.scalar(select(Payment.disputed))
        assert (
            s.scalar(
                select(func.count()).where(
                    Message.to_phone == "+15551230000", Message.body.contains("dispute")
                )
            )
            == 1
        )


def test_failed_payment_keeps_the_hold_and_captures_a_lead(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    failed = event(
        "payment_intent.payment_failed",
        {
            "id": "pi_9",
            "object": "payment_intent",
            "metadata": {"payment_id": str(payment.id)},
            "last_payment_error": {"message": "Your card was declined."},
        },
        "evt_f",
    )
    assert post_event(client, failed).json["outcome"] == "failed"
    assert booking_row(factory, booking_id).status == "held"
    with factory() as s:
        lead = s.scalar(select(Lead).where(Lead.source == "booking_failed"))
        assert (lead.reason, lead.priority) == ("booking_failed", "high")
    assert any("didn't go through" in m for m in to_customer(factory))


def test_embedded_default_fake_checkout_in_the_browser_flow(pg_url: str, factory) -> None:
    with factory() as s:
        import_org(s, utcnow(), **live_catalog())
    client = create_app(TestConfig()).test_client()
    booking_id = hold(factory)
    booking = booking_row(factory, booking_id)
    link = payments.pay_url(booking, "").removeprefix("http://127.0.0.1:5000")
    page = client.get(link)
    assert (
        page.status_code == 200
        and b"Pay the deposit: $15" in page.data
        and b"Pay in full: $50" in page.data
    )
    started = client.post(link, data={"kind": "deposit"})
    assert started.status_code == 303 and f"{link}/fake/" in started.headers["Location"]
    fake = started.headers["Location"]
    assert b"No card is charged" in client.get(fake).data
    assert b"Payment received" in client.post(fake).data
    assert b"Already paid" in client.post(fake).data  # paying twice is refused
    assert booking_row(factory, booking_id).status == "confirmed"
    assert client.get("/pay/BK-NOPE2").status_code == 404
    assert b"Nothing to pay" in client.post(link, data={"kind": "full"}).data


def test_with_stripe_on_the_fake_checkout_confirms_nothing(
    client: FlaskClient, factory, stripe_api
) -> None:
    """The fake checkout takes no card: with Stripe configured (as production must be) it
    is not there, even for a payment made before Stripe was (it confirmed bookings for free)."""
    booking_id = hold(factory)
    with factory() as s:  # a payment opened while the installation had no Stripe key
        org = s.scalar(select(Organization))
        payment, _ = start_checkout(
            s, org, s.get(Booking, booking_id), "full", utcnow(), "", payments.StripeAccount(None)
        )
        s.commit()
        assert payment.provider == "fake"
    fake = f"{link_path(factory, booking_id)}/fake/{payment.id}"
    for response in (client.get(fake), client.post(fake)):
        assert response.status_code == 404
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("held", 0)


# --- what arrived against what was asked (issue 16) ---------------------------------------


def money_event(
    payment: Payment, amount: int, currency: str = "usd", event_id: str = "evt_m"
) -> dict:
    body = completed(payment, amount, event_id)
    body["data"]["object"]["currency"] = currency
    return body


def timeline_of(factory: sessionmaker[Session], booking_id: int, kind: str) -> list[dict]:
    with factory() as s:
        return [
            e.content
            for e in s.scalars(
                select(TimelineEvent)
                .where(
                    TimelineEvent.object_type == "booking",
                    TimelineEvent.object_id == booking_id,
                    TimelineEvent.event_type == kind,
                )
                .order_by(TimelineEvent.id)
            )
        ]


def to_owner(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(
                select(Message.body).where(Message.to_phone == "+15551230000").order_by(Message.id)
            )
        )


def test_one_cent_for_a_deposit_leaves_the_hold_and_the_rest_due(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "deposit")  # $15 of $50
    assert post_event(client, money_event(payment, 1)).json["outcome"] == "underpaid"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("held", 1)
    [gap] = timeline_of(factory, booking_id, "payment.discrepancy")
    assert (gap["expected_minor"], gap["received_minor"]) == (1500, 1)
    assert any("mismatch" in m and booking.reference in m for m in to_owner(factory))
    [short] = [m for m in to_customer(factory) if "remaining" in m]
    assert "$0.01" in short and "$14.99" in short
    assert payments.pay_url(booking, "https://bot.example.com") in short
    assert not any("confirmed" in m for m in to_customer(factory))
    # The page asks for what is missing of the deposit; paying it confirms.
    link = payments.pay_url(booking, "https://bot.example.com").removeprefix(
        "https://bot.example.com"
    )
    assert b"Pay the deposit: $14.99" in client.get(link).data
    rest = checkout(factory, booking_id, "deposit")
    assert rest.amount_minor == 1499
    assert post_event(client, completed(rest, event_id="evt_r")).json["outcome"] == "confirmed"
    assert booking_row(factory, booking_id).paid_minor == 1500


def test_nothing_paid_confirms_nothing(client: FlaskClient, factory, stripe_api) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    assert post_event(client, money_event(payment, 0)).json["outcome"] == "discrepancy"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("held", 0)
    with factory() as s:
        assert s.get(Payment, payment.id).status == "pending"
    assert timeline_of(factory, booking_id, "payment.discrepancy")
    # The real money, arriving later for the same payment, still counts.
    assert post_event(client, completed(payment, event_id="evt_2")).json["outcome"] == "confirmed"


def test_another_currency_is_refunded_whole_and_never_counted(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    assert post_event(client, money_event(payment, 5000, "eur")).json["outcome"] == "refunded"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("held", 0)
    [refund_call] = [c for c in stripe_api.calls if c.request.url.endswith("/refunds")]
    assert parse_qs(refund_call.request.body)["amount"] == ["5000"]
    [gap] = timeline_of(factory, booking_id, "payment.discrepancy")
    assert (gap["expected_currency"], gap["received_currency"]) == ("USD", "EUR")
    assert any("mismatch" in m for m in to_owner(factory))
    assert any("another currency" in m and "refunded" in m for m in to_customer(factory))


def test_overpayment_confirms_and_the_excess_goes_back(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    assert post_event(client, money_event(payment, 6000)).json["outcome"] == "confirmed"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor, booking.balance_minor) == ("confirmed", 5000, 0)
    [refund_call] = [c for c in stripe_api.calls if c.request.url.endswith("/refunds")]
    assert parse_qs(refund_call.request.body)["amount"] == ["1000"]
    assert timeline_of(factory, booking_id, "payment.discrepancy")
    assert any("mismatch" in m for m in to_owner(factory))


def test_money_for_a_booking_awaiting_the_owner_goes_back_and_confirms_nothing(
    client: FlaskClient, factory, stripe_api
) -> None:
    """A checkout opened before the booking came to wait for the owner (approval asked
    for after the customer clicked Pay): Stripe's event for it refunds the money whole, and
    the booking still waits for the owner. Paying never confirms what the owner has not."""
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "deposit")
    with factory() as s:
        s.get(Booking, booking_id).status = "pending_approval"
        s.commit()
    page = client.get(link_path(factory, booking_id))
    assert b"awaits the operator" in page.data and b'name="kind"' not in page.data
    assert post_event(client, completed(payment)).json["outcome"] == "refunded"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("pending_approval", 0)
    [refund_call] = [c for c in stripe_api.calls if c.request.url.endswith("/refunds")]
    assert parse_qs(refund_call.request.body)["amount"] == ["1500"]
    assert not any("confirmed" in m for m in to_customer(factory))


def test_a_short_full_payment_that_covers_the_deposit_confirms_with_the_rest_due(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")  # $50 asked, $20 arrives
    assert post_event(client, money_event(payment, 2000)).json["outcome"] == "confirmed"
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor, booking.balance_minor) == ("confirmed", 2000, 3000)
    [confirmation] = [m for m in to_customer(factory) if "confirmed" in m]
    assert "Balance: $30" in confirmation
    assert payments.pay_url(booking, "https://bot.example.com") in confirmation


def test_a_short_balance_payment_leaves_the_rest_due_with_the_link(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    deposit = checkout(factory, booking_id, "deposit")
    assert post_event(client, completed(deposit)).json["outcome"] == "confirmed"
    balance = checkout(factory, booking_id, "balance")  # $35 asked, $10 arrives
    assert post_event(client, money_event(balance, 1000, event_id="evt_b")).json["outcome"] == (
        "balance_paid"
    )
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor, booking.balance_minor) == ("confirmed", 2500, 2500)
    [gap] = timeline_of(factory, booking_id, "payment.discrepancy")
    assert (gap["expected_minor"], gap["received_minor"]) == (3500, 1000)
    assert any("mismatch" in m for m in to_owner(factory))
    latest = to_customer(factory)[-1]
    assert "Balance: $25" in latest
    assert payments.pay_url(booking, "https://bot.example.com") in latest
    rest = checkout(factory, booking_id, "balance")
    assert rest.amount_minor == 2500


def test_zero_decimal_currency_compares_whole_yen(pg_url: str, factory, stripe_api) -> None:
    data = live_catalog()
    data["organization"]["currency"] = "JPY"
    data["tours"][2]["prices"] = {"adult": "2500"}
    with factory() as s:
        import_org(s, utcnow(), **data)
    client = create_app(stripe_config()).test_client()
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    assert (payment.amount_minor, payment.currency) == (5000, "JPY")  # ¥5,000
    # ¥50: the amount read as if yen had cents.
    assert post_event(client, money_event(payment, 50, "jpy")).json["outcome"] == "underpaid"
    assert booking_row(factory, booking_id).status == "held"
    rest = checkout(factory, booking_id, "full")
    assert rest.amount_minor == 4950
    assert post_event(client, money_event(rest, 4950, "jpy", "evt_y")).json["outcome"] == (
        "confirmed"
    )
    assert booking_row(factory, booking_id).paid_minor == 5000


def test_a_refund_reported_before_the_payment_keeps_the_books(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    payment = checkout(factory, booking_id, "full")
    refunded = event(
        "charge.refunded",
        {
            "id": "ch_1",
            "object": "charge",
            "amount": 5000,
            "amount_refunded": 5000,
            "currency": "usd",
            "payment_intent": f"pi_{payment.id}",
            "metadata": {"payment_id": str(payment.id)},
        },
        "evt_refund_first",
    )
    assert post_event(client, refunded).json["outcome"] == "refund_recorded"
    assert booking_row(factory, booking_id).paid_minor == 0
    assert post_event(client, completed(payment, event_id="evt_late")).json["outcome"] == (
        "refunded"
    )
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("held", 0)
    with factory() as s:
        row = s.get(Payment, payment.id)
        assert (row.status, row.refunded_minor) == ("refunded", 5000)


# --- refunds --------------------------------------------------------------------------------


def test_two_partial_refunds_at_once_both_count(app: Flask, factory, stripe_api) -> None:
    from tests.staff import StaffClient, make_staff

    booking_id = hold(factory, seats=3)  # $75
    payment = checkout(factory, booking_id, "full")
    post_event(app.test_client(), completed(payment))
    with factory() as s:
        org = s.scalar(select(Organization))
        make_staff(s, org, "owner", "boss@example.com")
        make_staff(s, org, "ops", "desk@example.com")
    # Stripe answers slowly: each refund is in flight while the other starts.
    started = threading.Barrier(2, timeout=3)
    ids = iter(range(1, 100))

    def slow_refund(request):  # type: ignore[no-untyped-def]
        # With the lock the second refund starts after the first: no rendezvous.
        with contextlib.suppress(threading.BrokenBarrierError):
            started.wait()
        return 200, {}, json.dumps({"id": f"re_{next(ids)}", "object": "refund"})

    stripe_api.replace(responses.POST, f"{API}/refunds", body="")  # drop the fixture's own
    stripe_api.remove(responses.POST, f"{API}/refunds")
    stripe_api.add_callback(responses.POST, f"{API}/refunds", callback=slow_refund)
    staff = [StaffClient(app.test_client()), StaffClient(app.test_client())]
    staff[0].login("boss@example.com")
    staff[1].login("desk@example.com")
    url = f"/admin/bookings/{booking_row(factory, booking_id).reference}/refund"
    threads = [
        threading.Thread(
            target=lambda c=c, amount=amount: c.post(
                url, {"payment": str(payment.id), "amount": amount}
            )
        )
        for c, amount in zip(staff, ("50.00", "20.00"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    with factory() as s:
        row = s.get(Payment, payment.id)
        assert row.refunded_minor == 7000
        assert s.scalar(select(func.sum(Refund.amount_minor))) == 7000
        assert s.get(Booking, booking_id).paid_minor == 500
    # More than is left is refused, and nothing changes.
    page = staff[0].post(url, {"payment": str(payment.id), "amount": "5.01"})
    assert "at most $5" in page.text
    with factory() as s:
        assert s.get(Payment, payment.id).refunded_minor == 7000
        assert s.get(Booking, booking_id).paid_minor == 500


# --- pay links (issue 16) -------------------------------------------------------------------


def link_path(factory: sessionmaker[Session], booking_id: int) -> str:
    return payments.pay_url(booking_row(factory, booking_id), "https://x.example").removeprefix(
        "https://x.example"
    )


def test_a_pay_link_needs_its_secret(client: FlaskClient, factory, stripe_api) -> None:
    booking_id = hold(factory)
    booking = booking_row(factory, booking_id)
    link = link_path(factory, booking_id)
    assert len(link.rsplit("/", 1)[1]) >= 20  # 128 random bits
    shown = client.get(link)
    assert shown.status_code == 200 and b"Old City Walk" in shown.data
    for path in (
        f"/pay/{booking.reference}",
        f"/pay/{booking.reference}/{booking.pay_token[:-1]}x",
        f"/pay/{booking.reference}/done",
        f"/pay/{booking.reference}/{booking.pay_token}x/done",
    ):
        for response in (client.get(path), client.post(path, data={"kind": "full"})):
            assert response.status_code in (404, 405), path
            assert b"Old City Walk" not in response.data and b"$50" not in response.data
    assert b"use the payment link in the message" in client.get(f"/pay/{booking.reference}").data
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
    # Every message with a pay link carries the secret: the hold message, say.
    assert payments.pay_url(booking, None).endswith(f"/pay/{booking.reference}/{booking.pay_token}")


def test_guessing_pay_links_is_slowed_down(
    app: Flask, factory, stripe_api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One counting window for the whole test: on a loaded machine the 125 requests of the
    # flood took over a minute, and the count started again mid-flood.
    monkeypatch.setattr(ratelimit, "_window", lambda seconds: 0)
    booking_id = hold(factory)
    link = link_path(factory, booking_id)
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    answers = [guesser.get(f"/pay/BK-{n:05d}/guess{n}").status_code for n in range(40)]
    assert answers[:30] == [404] * 30 and set(answers[30:]) == {429}
    assert guesser.get(link).status_code == 429  # refused for a while, whatever it asks
    customer = app.test_client()
    customer.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert customer.get(link).status_code == 200  # nobody else is affected
    flood = app.test_client()
    flood.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    assert {flood.get(link).status_code for _ in range(125)} == {200, 429}


def test_a_second_click_on_pay_reuses_the_open_checkout(
    client: FlaskClient, factory, stripe_api
) -> None:
    booking_id = hold(factory)
    link = link_path(factory, booking_id)
    first = client.post(link, data={"kind": "deposit"})
    second = client.post(link, data={"kind": "deposit"})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    creates = [c for c in stripe_api.calls if c.request.url.endswith("/checkout/sessions")]
    assert len(creates) == 1
    token = booking_row(factory, booking_id).pay_token
    assert creates[0].request.headers["Idempotency-Key"] == f"checkout:{token}:1"
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 1
    # Another amount is another checkout.
    assert client.post(link, data={"kind": "full"}).headers["Location"] != first.headers["Location"]


def test_an_event_during_checkout_creation_finds_its_payment(
    app: Flask, client: FlaskClient, factory, stripe_api
) -> None:
    """The payment is committed before Stripe is called: Stripe's event for it, arriving
    before the page has finished, is applied (it was "ignored", and the money lost)."""
    booking_id = hold(factory)
    outcomes: list[str] = []

    def create_and_pay(request):  # type: ignore[no-untyped-def]
        form = parse_qs(request.body)
        payment_id = form["metadata[payment_id]"][0]
        body = event(
            "checkout.session.completed",
            {
                "id": "cs_test_fast",
                "object": "checkout.session",
                "payment_status": "paid",
                "amount_total": int(form["line_items[0][price_data][unit_amount]"][0]),
                "currency": "usd",
                "payment_intent": "pi_fast",
                "metadata": {"payment_id": payment_id},
            },
            "evt_fast",
        )
        webhook = threading.Thread(
            target=lambda: outcomes.append(post_event(app.test_client(), body).json["outcome"])
        )
        webhook.start()
        webhook.join(timeout=20)
        return 200, {}, json.dumps({"id": "cs_test_fast", "url": "https://checkout.example/x"})

    stripe_api.remove(responses.POST, f"{API}/checkout/sessions")
    stripe_api.add_callback(responses.POST, f"{API}/checkout/sessions", callback=create_and_pay)
    started = client.post(link_path(factory, booking_id), data={"kind": "deposit"})
    assert started.status_code == 303
    assert outcomes == ["confirmed"]
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("confirmed", 1500)


def test_a_hold_that_lapses_short_of_its_deposit_gives_the_money_back(
    app: Flask, client: FlaskClient, factory, stripe_api
) -> None:
    from services import jobs
    from services.runtime import Runtime

    booking_id = hold(factory, hours=1)
    payment = checkout(factory, booking_id, "deposit")
    assert post_event(client, money_event(payment, 500)).json["outcome"] == "underpaid"
    jobs.run_sweep(Runtime(stripe_config(), factory), utcnow() + timedelta(hours=2))
    booking = booking_row(factory, booking_id)
    assert (booking.status, booking.paid_minor) == ("expired", 0)
    [refund_call] = [c for c in stripe_api.calls if c.request.url.endswith("/refunds")]
    assert parse_qs(refund_call.request.body)["amount"] == ["500"]
    assert any("lapsed before enough was paid" in m and "$5" in m for m in to_customer(factory))
