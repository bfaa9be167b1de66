"""Cancellations with money: refunds by policy (organization or tour), and cancelling a
whole departure: every booking cancelled and refunded once, every reachable customer told
once on each channel, the guide told, and the call list right."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, Conversation, Message, Organization, Payment, Refund, utcnow
from services import api_tokens, cancellations, checkout, inventory, ratelimit, settlement
from services.cancellations import CancellationError
from services.payments import StripeAccount
from tests.conftest import import_org
from tests.factories import catalog_data, departure, make_customer

API = "https://api.stripe.com/v1"
FAKE = StripeAccount(None)  # the embedded default's fake checkout
STRIPE = StripeAccount("sk_test_123")


def paid_booking(
    s: Session,
    org: Organization,
    code: str,
    phone: str,
    seats: int = 1,
    *,
    now=None,
    stripe: StripeAccount = FAKE,
) -> Booking:
    now = now or utcnow()
    booking = inventory.hold_seats(
        s,
        org,
        departure(s, org, code),
        make_customer(s, org, phone, now),
        {"adult": seats},
        now,
        source="sms",
    )
    payment, _ = checkout.start_checkout(
        s, org, booking, "full", now, "https://bot.example.com", stripe
    )
    if payment.provider == "stripe":
        payment.payment_intent_id = f"pi_{payment.id}"
    settlement.settle(
        s, org, payment, now, counts=ratelimit.counter(None), stripe=stripe, source=payment.provider
    )
    return booking


@pytest.mark.parametrize(
    ("days_before", "percent"), [(30, 100), (7, 100), (5, 50), (3, 50), (2, 0), (0, 0)]
)
def test_refund_follows_the_organizations_policy(
    session: Session, org: Organization, days_before: int, percent: int
) -> None:
    dep = departure(session, org, "EBC0412")
    now = dep.starts_at - timedelta(days=days_before, hours=1)
    booking = paid_booking(session, org, "EBC0412", "+12025550101", now=now)
    quote = cancellations.refund_quote(org, booking, now)
    assert quote.percent == Decimal(percent)
    refunded = cancellations.cancel_with_refund(
        session, org, booking, now, reason="changed plans", stripe=FAKE
    )
    assert refunded == booking.total_minor * percent // 100
    assert session.scalar(select(func.coalesce(func.sum(Refund.amount_minor), 0))) == refunded


def test_a_tour_policy_overrides_the_organizations(session: Session) -> None:
    data = catalog_data()
    data["tours"][0]["cancellation_policy"] = [{"days_before": 30, "refund_percent": 80}]
    org = import_org(session, **{"tours": data["tours"]})
    dep = departure(session, org, "EBC0412")
    now = dep.starts_at - timedelta(days=40)
    booking = paid_booking(session, org, "EBC0412", "+12025550101", now=now)
    assert cancellations.refund_quote(org, booking, now).percent == Decimal(80)


def test_cancelling_a_departure_with_50_bookings(
    factory: sessionmaker[Session], client: FlaskClient, app
) -> None:  # type: ignore[no-untyped-def]
    data = catalog_data()
    data["tours"][0]["departures"][0]["capacity"] = 60
    sessions = iter(range(1, 1000))
    with responses.RequestsMock() as stripe_api:
        stripe_api.add_callback(
            responses.POST,
            f"{API}/checkout/sessions",
            callback=lambda r: (200, {}, f'{{"id": "cs_{next(sessions)}", "url": "https://x"}}'),
        )
        stripe_api.add_callback(
            responses.POST,
            f"{API}/refunds",
            callback=lambda r: (200, {}, f'{{"id": "re_{next(sessions)}", "object": "refund"}}'),
        )
        with factory() as s:
            org = import_org(s, **{"tours": data["tours"]})
            now = utcnow()
            phones = [f"+1202555{i:04d}" for i in range(50)]
            for i, phone in enumerate(phones):
                booking = paid_booking(s, org, "EBC0315", phone, stripe=STRIPE)
                if i % 2:  # half write on WhatsApp too: they are told on both channels
                    s.add(
                        Conversation(
                            organization_id=org.id,
                            customer_id=booking.customer_id,
                            channel="whatsapp",
                            state="idle",
                            slots={},
                            created_at=now,
                            updated_at=now,
                            last_inbound_at=now,
                        )
                    )
                s.add(
                    Conversation(
                        organization_id=org.id,
                        customer_id=booking.customer_id,
                        channel="sms",
                        state="idle",
                        slots={},
                        created_at=now,
                        updated_at=now,
                        last_inbound_at=now,
                    )
                )
            opted_out = s.scalar(select(Booking).where(Booking.customer.has(phone=phones[0])))
            opted_out.customer.opted_out = True
            s.commit()
            refunds_before = len(
                [c for c in stripe_api.calls if c.request.url.endswith("/refunds")]
            )
            dep = departure(s, org, "EBC0315")
            record = cancellations.cancel_departure(
                s, org, dep, "heavy snow on the pass", utcnow(), stripe=STRIPE
            )
            s.commit()
            again = cancellations.cancel_departure(
                s, org, dep, "heavy snow on the pass", utcnow(), stripe=STRIPE
            )
            assert again.id == record.id  # pressing twice changes nothing
            s.commit()
            refund_calls = [c for c in stripe_api.calls if c.request.url.endswith("/refunds")][
                refunds_before:
            ]

    assert len(refund_calls) == 50  # every refund requested once
    with factory() as s:
        assert {b.status for b in s.scalars(select(Booking))} == {"cancelled"}
        assert s.scalar(select(func.count()).select_from(Refund)) == 50
        assert {p.status for p in s.scalars(select(Payment))} == {"refunded"}
        notes = list(s.scalars(select(Message).where(Message.kind == "cancellation")))
        reached = [m for m in notes if m.status != "suppressed"]
        # 49 reachable customers: 24 on SMS only, 25 on SMS and WhatsApp; once per channel.
        assert len(reached) == 49 + 25
        assert len({(m.to_phone, m.channel) for m in reached}) == len(reached)
        assert all("heavy snow" in m.body and "refunded in full" in m.body for m in reached)
        guide_note = s.scalar(select(Message).where(Message.to_phone == "+9779800000001"))
        assert "cancelled" in guide_note.body
        token = api_tokens.create_token(s, s.scalar(select(Organization)), utcnow())
        s.commit()
    progress = client.get(
        "/api/v1/departures/EBC0315/cancellation", headers={"Authorization": f"Bearer {token}"}
    ).json
    assert (progress["bookings_cancelled"], progress["people"]) == (50, 50)
    assert progress["call_list"] == [
        {"booking": opted_out.reference, "name": None, "phone": phones[0], "why": "opted out"}
    ]
    assert (
        sum(progress["messages"].values()) == 49 + 25 + 1 + 0
    )  # + the opted-out customer's suppressed one


def test_a_started_departure_cannot_be_cancelled(session: Session, org: Organization) -> None:
    dep = departure(session, org, "EBC0315")
    dep.status = "started"
    with pytest.raises(CancellationError, match="no longer"):
        cancellations.cancel_departure(session, org, dep, "x", utcnow(), stripe=FAKE)


def test_cancelled_bookings_free_seats_for_the_waitlist(
    session: Session, org: Organization
) -> None:
    booking = paid_booking(session, org, "CITY0120", "+12025550101", seats=3, now=utcnow())
    from services import waitlist

    entry = waitlist.join_waitlist(
        session,
        org,
        departure(session, org, "CITY0120"),
        make_customer(session, org, "+12025550102", utcnow()),
        {"adult": 2},
        utcnow(),
        source="sms",
    )
    cancellations.cancel_with_refund(session, org, booking, utcnow(), reason="x", stripe=FAKE)
    assert entry.status == "offered"  # the freed seats went to the waitlist at once
