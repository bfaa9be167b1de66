"""Money arriving: every payment applied under the booking's departure lock and at most
once (Payment.status), every Stripe event at most once (ProviderEvent). What arrived is
compared with what was asked; a booking is confirmed only when what it has been paid covers
the deposit, and money that arrives for seats that are gone is refunded at once: it is never
kept for a booking that cannot happen."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    AWAITING_PAYMENT_STATUSES,
    RECEIVED_PAYMENT_STATUSES,
    Booking,
    BookingStatus,
    Organization,
    Payment,
    PaymentStatus,
    ProviderEvent,
)
from models.enums import status_label
from services import bookings, leads, notify, payment_states, ratelimit, timeline
from services.i18n import customer_voice
from services.inventory import NotEnoughSeats
from services.locking import lock_departure
from services.money import format_money, is_currency
from services.payments import (
    StripeAccount,
    confirmation_text,
    lock_payment,
    money_phones,
    pay_url,
    received_payments,
    required_to_confirm,
)
from services.refunds import record_refund, refund, refunded_elsewhere

log = logging.getLogger(__name__)


def settle(
    session: Session,
    org: Organization,
    payment: Payment,
    now: datetime,
    *,
    stripe: StripeAccount,
    counts: ratelimit.Counter,
    amount_minor: int | None = None,
    currency: str | None = None,
    payment_intent_id: str | None = None,
    source: str = "stripe",
    base_url: str | None = None,
) -> str:
    """Money arrived for a payment. Applies it once, under the departure lock, as what it
    is: the amount and currency received are compared with what was asked. The booking is
    confirmed only when what it has been paid covers what confirming needs (the deposit);
    less leaves the rest due (the customer gets the link), more than the booking's price is
    refunded, another currency is refunded whole; each mismatch is on the booking's timeline
    and staff are told. A hold whose seats went while it lapsed is refunded (and sales told,
    within the customer's paging limit: counts)."""
    lock_departure(session, payment.booking.departure)
    booking = lock_payment(session, payment)
    if payment.status in RECEIVED_PAYMENT_STATUSES:
        # Applied before (Stripe sends checkout.session.completed and payment_intent.succeeded
        # for one payment), and perhaps refunded since: never counted twice.
        return "already_paid"
    expected = payment.amount_minor
    received = expected if amount_minor is None else amount_minor
    received_currency = (currency or payment.currency).upper()
    if received <= 0:
        # Nothing arrived: nothing to apply; the payment stays open for the real money.
        _discrepancy(session, org, payment, now, expected, received, received_currency, source)
        return "discrepancy"
    if payment_intent_id:
        payment.payment_intent_id = payment_intent_id
    if received_currency != payment.currency.upper():
        return _wrong_currency(
            session, org, payment, now, received, received_currency, source, stripe, base_url
        )
    # From here on the payment is what came in: refunds are capped by it.
    payment.amount_minor = received
    # A refund Stripe reported before the payment itself (charge.refunded first) is already
    # on the payment; only what is left counts for the booking.
    booking.paid_minor += received - payment.refunded_minor
    payment_states.transition(
        session,
        payment,
        PaymentStatus.PAID,
        now,
        event="payment.received",
        actor=source,
        source=source,
        content={"kind": payment.kind, "amount_minor": received, "expected_minor": expected},
    )
    if received != expected:
        _discrepancy(session, org, payment, now, expected, received, received_currency, source)
    if payment.refunded_minor >= received:
        record_refund(session, payment, now, {"amount_minor": 0}, source=source)
        return "refunded"
    if booking.status not in (
        *AWAITING_PAYMENT_STATUSES,
        BookingStatus.EXPIRED,
        BookingStatus.CONFIRMED,
    ):
        # Cancelled, or still awaiting the owner (a checkout opened before that was refused):
        # the money goes back; paying never confirms what the owner has not.
        reason = f"booking {status_label(booking.status)}"
        refund(session, org, payment, received, reason, now, stripe=stripe)
        return "refunded"
    _refund_excess(session, org, payment, now, stripe)
    if booking.status == BookingStatus.CONFIRMED:
        _tell_paid(session, org, booking, received, now, base_url)
        return "balance_paid"
    if booking.paid_minor < required_to_confirm(booking):
        _tell_short(session, org, booking, now, base_url)
        return "underpaid"
    try:
        with session.begin_nested():
            bookings.confirm_booking(
                session,
                org,
                booking,
                now,
                actor=source,
                source=source,
                reason=f"{payment.kind} paid",
            )
    except NotEnoughSeats:
        # pretix issue #74: never keep money for seats that are no longer there.
        for paid in received_payments(session, booking):
            left = paid.amount_minor - paid.refunded_minor
            if left > 0:
                refund(session, org, paid, left, "seats gone before payment", now, stripe=stripe)
        _lost_seats(session, org, booking, now, counts)
        return "refunded"
    _tell_paid(session, org, booking, received, now, base_url)
    return "confirmed"


def _discrepancy(
    session: Session,
    org: Organization,
    payment: Payment,
    now: datetime,
    expected: int,
    received: int,
    received_currency: str,
    source: str,
) -> None:
    """What arrived is not what was asked: on the booking's timeline, and staff told."""
    booking = payment.booking
    timeline.record(
        session,
        booking,
        "payment.discrepancy",
        actor=source,
        source=source,
        at=now,
        content={
            "payment": payment.id,
            "expected_minor": expected,
            "expected_currency": payment.currency,
            "received_minor": received,
            "received_currency": received_currency,
        },
    )
    asked = format_money(expected, payment.currency)
    got = (
        format_money(received, received_currency)
        if is_currency(received_currency)
        else f"{received} {received_currency[:3]}"
    )
    for phone in money_phones(org):
        notify.to_staff(
            session,
            org,
            phone,
            f"⚠️ Payment mismatch on {booking.reference}: asked {asked}, received {got}. "
            f"See the booking's timeline.",
            now,
        )


def _wrong_currency(
    session: Session,
    org: Organization,
    payment: Payment,
    now: datetime,
    received: int,
    received_currency: str,
    source: str,
    stripe: StripeAccount,
    base_url: str | None,
) -> str:
    """Money in another currency cannot count toward the price: it is refunded whole and
    the customer gets the link again."""
    booking = payment.booking
    _discrepancy(
        session, org, payment, now, payment.amount_minor, received, received_currency, source
    )
    payment.currency, payment.amount_minor = received_currency[:3], received
    payment_states.transition(
        session,
        payment,
        PaymentStatus.PAID,
        now,
        event="payment.received",
        actor=source,
        source=source,
        content={"kind": payment.kind, "amount_minor": received, "counted": False},
    )
    refund(session, org, payment, received, "wrong currency", now, stripe=stripe)
    voice = customer_voice(org, booking.customer)
    notify.to_customer(
        session,
        org,
        booking.customer,
        voice._(
            "Your payment for {reference} came in another currency, so we have refunded it "
            "in full. Please pay in {currency} here: {link}",
            reference=booking.reference,
            currency=booking.currency,
            link=pay_url(booking, base_url),
        ),
        now,
        reference=booking.reference,
    )
    return "refunded"


def _refund_excess(
    session: Session, org: Organization, payment: Payment, now: datetime, stripe: StripeAccount
) -> None:
    """More than the booking's price arrived: the difference goes back at once."""
    booking = payment.booking
    excess = min(booking.paid_minor - booking.total_minor, payment.amount_minor)
    if excess > 0:
        refund(session, org, payment, excess, "overpaid", now, stripe=stripe)


def _tell_short(
    session: Session, org: Organization, booking: Booking, now: datetime, base_url: str | None
) -> None:
    """Less than the deposit arrived: the hold stays, and the customer is asked for the rest."""
    voice = customer_voice(org, booking.customer)
    required = required_to_confirm(booking)
    notify.to_customer(
        session,
        org,
        booking.customer,
        voice._(
            "We received {paid} for {reference}, but {required} is needed to confirm it. "
            "Please pay the remaining {missing} here: {link}",
            paid=voice.money(booking.paid_minor, booking.currency),
            reference=booking.reference,
            required=voice.money(required, booking.currency),
            missing=voice.money(required - booking.paid_minor, booking.currency),
            link=pay_url(booking, base_url),
        ),
        now,
        reference=booking.reference,
    )


def _tell_paid(
    session: Session,
    org: Organization,
    booking: Booking,
    received: int,
    now: datetime,
    base_url: str | None = None,
) -> None:
    notify.to_customer(
        session,
        org,
        booking.customer,
        confirmation_text(org, booking, now, base_url=base_url),
        now,
        reference=booking.reference,
    )


def _lost_seats(
    session: Session, org: Organization, booking: Booking, now: datetime, counts: ratelimit.Counter
) -> None:
    notify.to_customer(
        session,
        org,
        booking.customer,
        customer_voice(org, booking.customer)._(
            "Sorry, your hold {reference} expired and the seats were taken before your "
            "payment arrived. We have refunded it in full. Reply to see other dates.",
            reference=booking.reference,
        ),
        now,
        reference=booking.reference,
    )
    leads.capture_failed_booking(
        session,
        org,
        booking,
        now,
        reason="slot_unavailable",
        notes=f"Paid after {booking.reference} expired; refunded.",
        counts=counts,
    )


def handle_stripe_event(
    session: Session,
    event: dict[str, Any],
    now: datetime,
    stripe: StripeAccount,
    counts: ratelimit.Counter,
    base_url: str | None = None,
) -> str:
    """Applies one verified Stripe event. A replayed event (same id) changes nothing."""
    try:
        with session.begin_nested():
            record = ProviderEvent(
                provider="stripe",
                event_id=str(event["id"]),
                type=str(event["type"]),
                received_at=now,
            )
            session.add(record)
            session.flush()
    except IntegrityError:
        return "duplicate"
    obj = event["data"]["object"]
    kind = event["type"]
    payment = _payment_for(session, obj)
    if payment is None:
        record.outcome = "unknown payment"
        log.warning("Stripe %s %s for no payment of ours", kind, event["id"])
        return "ignored"
    org = session.get(Organization, payment.organization_id)
    assert org is not None
    if kind == "checkout.session.completed":
        outcome = (
            "pending"
            if obj.get("payment_status") != "paid"
            else settle(
                session,
                org,
                payment,
                now,
                stripe=stripe,
                counts=counts,
                amount_minor=_amount(obj.get("amount_total")),
                currency=_currency(obj.get("currency")),
                payment_intent_id=obj.get("payment_intent"),
                base_url=base_url,
            )
        )
    elif kind == "payment_intent.succeeded":
        outcome = settle(
            session,
            org,
            payment,
            now,
            stripe=stripe,
            counts=counts,
            amount_minor=_amount(obj.get("amount_received")),
            currency=_currency(obj.get("currency")),
            payment_intent_id=obj.get("id"),
            base_url=base_url,
        )
    elif kind == "payment_intent.payment_failed":
        outcome = _failed(session, org, payment, obj, now, counts)
    elif kind == "charge.refunded":
        outcome = refunded_elsewhere(session, org, payment, obj, now)
    elif kind == "charge.dispute.created":
        payment.disputed = True
        timeline.record(
            session,
            payment.booking,
            "payment.disputed",
            source="stripe",
            at=now,
            content={
                "payment": payment.id,
                "amount_minor": obj.get("amount"),
                "reason": obj.get("reason"),
            },
        )
        notify.to_staff(
            session,
            org,
            org.owner_phone,
            f"⚠️ Card dispute on {payment.booking.reference}: "
            f"{obj.get('reason', 'no reason given')}.",
            now,
        )
        outcome = "disputed"
    else:
        outcome = "ignored"
    record.outcome = outcome
    return outcome


def _amount(value: Any) -> int | None:
    """An event's amount in minor units (Stripe's are minor units too, and whole yen for
    JPY as ours are); anything but a whole number is malformed."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"amount {value!r} is not a whole number")
    return value


def _currency(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise ValueError(f"currency {value!r} is not a currency code")
    return value.upper()


def _payment_for(session: Session, obj: dict[str, Any]) -> Payment | None:
    payment_id = (obj.get("metadata") or {}).get("payment_id")
    if payment_id and str(payment_id).isdigit():
        found = session.get(Payment, int(payment_id))
        if found is not None:
            return found
    for column, value in (
        (Payment.checkout_session_id, obj.get("id")),
        (Payment.payment_intent_id, obj.get("payment_intent") or obj.get("id")),
    ):
        if value:
            found = session.scalar(select(Payment).where(column == value))
            if found is not None:
                return found
    return None


def _failed(
    session: Session,
    org: Organization,
    payment: Payment,
    obj: dict[str, Any],
    now: datetime,
    counts: ratelimit.Counter,
) -> str:
    if payment.status != PaymentStatus.PENDING:
        return "ignored"
    stripe_says = (obj.get("last_payment_error") or {}).get("message")
    error = stripe_says or "the card was declined"
    payment.failure_reason = error[:500]
    booking = payment.booking
    payment_states.transition(
        session,
        payment,
        PaymentStatus.FAILED,
        now,
        event="payment.failed",
        source="stripe",
        content={"error": error},
    )
    voice = customer_voice(org, booking.customer)
    notify.to_customer(
        session,
        org,
        booking.customer,
        voice._(
            "Your payment for {reference} didn't go through ({error}). Your seats are still "
            "held; reply PAY for a new link, or AGENT for help.",
            reference=booking.reference,
            # Stripe's own explanation, as it gives it; ours in the customer's words.
            error=stripe_says or voice._("the card was declined"),
        ),
        now,
        reference=booking.reference,
    )
    leads.capture_failed_booking(
        session,
        org,
        booking,
        now,
        reason="booking_failed",
        notes=f"Payment failed: {error}",
        counts=counts,
    )
    return "failed"
