"""Taking and returning money: Stripe Checkout in production, a local fake checkout in the
embedded default. Every payment is applied under the booking's departure lock and at most
once (Payment.status), every Stripe event at most once (ProviderEvent), and money that
arrives for seats that are gone is refunded at once: it is never kept for a booking that
cannot happen."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Config
from models import (
    AWAITING_PAYMENT_STATUSES,
    RECEIVED_PAYMENT_STATUSES,
    Booking,
    BookingStatus,
    Organization,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
)
from models.enums import status_label
from services import bookings, leads, notify, payment_states, phrases, ratelimit, timeline
from services.errors import ServiceError
from services.i18n import N_, customer_voice
from services.inventory import NotEnoughSeats
from services.locking import lock_departure

log = logging.getLogger(__name__)

# Stripe accepts a Checkout Session expiry between 30 minutes and 24 hours from now.
MIN_CHECKOUT = timedelta(minutes=30)
MAX_CHECKOUT = timedelta(hours=24)
# Where `make run` serves: the links' address when PUBLIC_BASE_URL is not set.
LOCAL_BASE_URL = "http://127.0.0.1:5000"


class PaymentError(ServiceError):
    pass


@dataclass(frozen=True)
class StripeAccount:
    """The Stripe account payments go through; without a secret key (the embedded default)
    checkouts are the local fake one, and no Stripe API is called."""

    secret_key: str | None
    api_base: str | None = None  # a local stand-in of Stripe's API (soak tests)

    @classmethod
    def of(cls, config: Config) -> StripeAccount:
        return cls(config.STRIPE_SECRET_KEY, config.STRIPE_API_BASE)

    @property
    def enabled(self) -> bool:
        return bool(self.secret_key)

    def client(self) -> Any:
        import stripe  # only when Stripe is used: it takes a third of a second to import

        stripe.api_key = self.secret_key
        if self.api_base:
            stripe.api_base = self.api_base
        return stripe


def pay_url(booking: Booking, base_url: str | None) -> str:
    """The link customers are sent: the /pay page for this booking, at base_url (the
    public address, PUBLIC_BASE_URL)."""
    return f"{(base_url or LOCAL_BASE_URL).rstrip('/')}/pay/{booking.reference}"


def amount_for(booking: Booking, kind: str) -> int:
    if kind == "deposit":
        return min(booking.deposit_minor, booking.balance_minor)
    if kind in ("full", "balance"):
        return booking.balance_minor
    raise PaymentError(f"unknown payment kind {kind!r}")


def payable_kinds(booking: Booking) -> list[str]:
    # A hold pending the owner's approval holds seats but is not payable: paying would
    # confirm it without the owner.
    if booking.status in AWAITING_PAYMENT_STATUSES and booking.paid_minor == 0:
        return ["deposit", "full"] if booking.deposit_minor < booking.total_minor else ["full"]
    if booking.status == BookingStatus.CONFIRMED and booking.balance_minor > 0:
        return ["balance"]
    return []


def not_payable_because(booking: Booking) -> PaymentError | None:
    """Why the customer cannot pay now, when there is something to say beyond "nothing to
    pay" (the pay page shows it, in the customer's words: said_by)."""
    if booking.status == BookingStatus.PENDING_APPROVAL:
        return PaymentError(
            N_(
                "{reference} awaits the operator's approval. You can pay once it is "
                "confirmed; we'll send you a message."
            ),
            reference=booking.reference,
        )
    return None


def start_checkout(
    session: Session,
    org: Organization,
    booking: Booking,
    kind: str,
    now: datetime,
    base_url: str,
    stripe: StripeAccount,
) -> tuple[Payment, str]:
    """A payment row and the address to pay it at (Stripe Checkout, or the fake page)."""
    if kind not in payable_kinds(booking):
        raise not_payable_because(booking) or PaymentError(
            N_("{reference} has nothing to pay as {kind} ({status})."),
            reference=booking.reference,
            kind=phrases.payment_kind(kind),
            status=phrases.status(booking.status),
        )
    amount = amount_for(booking, kind)
    payment = Payment(
        organization_id=org.id,
        booking_id=booking.id,
        kind=kind,
        amount_minor=amount,
        currency=booking.currency,
        provider="stripe" if stripe.enabled else "fake",
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    if not stripe.enabled:
        return payment, f"{base_url}/pay/{booking.reference}/fake/{payment.id}"
    deadline = booking.hold_expires_at or (now + MAX_CHECKOUT)
    expires = min(max(deadline, now + MIN_CHECKOUT), now + MAX_CHECKOUT)
    checkout = stripe.client().checkout.Session.create(
        mode="payment",
        line_items=_line_items(booking, kind, amount),
        client_reference_id=booking.reference,
        metadata={"booking": booking.reference, "payment_id": str(payment.id), "kind": kind},
        payment_intent_data={
            "metadata": {"booking": booking.reference, "payment_id": str(payment.id)}
        },
        expires_at=int(expires.timestamp()),
        success_url=f"{base_url}/pay/{booking.reference}/done",
        cancel_url=f"{base_url}/pay/{booking.reference}",
        idempotency_key=f"checkout:{booking.reference}:{kind}:{amount}",
    )
    payment.checkout_session_id = checkout["id"]
    timeline.record(
        session,
        booking,
        "payment.checkout_started",
        at=now,
        content={"kind": kind, "amount_minor": amount, "session": checkout["id"]},
    )
    return payment, checkout["url"]


def _line_items(booking: Booking, kind: str, amount: int) -> list[dict[str, Any]]:
    """Per tier when paying the whole undiscounted price; otherwise one line that says what
    it is (a deposit, a balance, or a discounted total)."""
    currency = booking.currency.lower()
    if kind == "full" and sum(line["amount_minor"] for line in booking.lines) == amount:
        return [
            {
                "quantity": line["quantity"],
                "price_data": {
                    "currency": currency,
                    "unit_amount": line["unit_minor"],
                    "product_data": {"name": f"{booking.departure.tour.name} – {line['label']}"},
                },
            }
            for line in booking.lines
        ]
    name = {"deposit": "Deposit", "balance": "Balance", "full": "Total"}[kind]
    return [
        {
            "quantity": 1,
            "price_data": {
                "currency": currency,
                "unit_amount": amount,
                "product_data": {"name": f"{name} for {booking.reference}"},
            },
        }
    ]


def settle(
    session: Session,
    org: Organization,
    payment: Payment,
    now: datetime,
    *,
    stripe: StripeAccount,
    counts: ratelimit.Counter,
    amount_minor: int | None = None,
    payment_intent_id: str | None = None,
    source: str = "stripe",
) -> str:
    """Money arrived for a payment. Applies it once, under the departure lock: the booking
    is confirmed (recounting seats if its hold lapsed) or, if the seats are gone, refunded
    (and sales told, within the customer's paging limit: counts)."""
    booking = payment.booking
    lock_departure(session, booking.departure)
    session.refresh(payment, with_for_update=True)
    session.refresh(booking)
    if payment.status in RECEIVED_PAYMENT_STATUSES:
        # Applied before (Stripe sends checkout.session.completed and payment_intent.succeeded
        # for one payment), and perhaps refunded since: never counted twice.
        return "already_paid"
    received = payment.amount_minor if amount_minor is None else amount_minor
    if payment_intent_id:
        payment.payment_intent_id = payment_intent_id
    booking.paid_minor += received
    payment_states.transition(
        session,
        payment,
        PaymentStatus.PAID,
        now,
        event="payment.received",
        actor=source,
        source=source,
        content={"kind": payment.kind, "amount_minor": received},
    )
    if booking.status == BookingStatus.CONFIRMED:
        _tell_paid(session, org, booking, received, now)
        return "balance_paid"
    if booking.status not in (*AWAITING_PAYMENT_STATUSES, BookingStatus.EXPIRED):
        # Cancelled, or still awaiting the owner (a checkout opened before that was refused):
        # the money goes back; paying never confirms what the owner has not.
        reason = f"booking {status_label(booking.status)}"
        refund(session, org, payment, received, reason, now, stripe=stripe)
        return "refunded"
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
        refund(session, org, payment, received, "seats gone before payment", now, stripe=stripe)
        _lost_seats(session, org, booking, now, counts)
        return "refunded"
    _tell_paid(session, org, booking, received, now)
    return "confirmed"


def confirmation_text(org: Organization, booking: Booking, now: datetime) -> str:
    """The booking confirmed, in the customer's words (staff see what was sent)."""
    voice = customer_voice(org, booking.customer)
    dep = booking.departure
    lines = [
        voice._("🎉 Booking confirmed!")
        if booking.balance_minor
        else voice._("🎉 Booking confirmed and paid in full!"),
        voice._(
            "Booking: {reference}\nTour: {tour}\nDate: {when}\nPeople: {people}\nPaid: {paid}",
            reference=booking.reference,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
            people=sum(booking.party.values()),
            paid=voice.money(booking.paid_minor, booking.currency),
        ),
    ]
    if booking.balance_minor:
        due = dep.starts_at - timedelta(days=org.settings.balance_due_days)
        lines.append(
            voice._(
                "Balance: {balance} (due {due})",
                balance=voice.money(booking.balance_minor, booking.currency),
                due=voice.date(max(due, now), year=True),
            )
        )
    return "\n".join(lines)


def _tell_paid(
    session: Session, org: Organization, booking: Booking, received: int, now: datetime
) -> None:
    notify.to_customer(
        session,
        org,
        booking.customer,
        confirmation_text(org, booking, now),
        now,
        reference=booking.reference,
    )


def resend_confirmation(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    base_url: str | None,
    actor: str = "staff",
) -> str:
    """Staff resend what the customer last needed: the confirmation, or the payment link of
    a hold. Returns what was sent, for the staff page to show."""
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        text = confirmation_text(org, booking, now)
    elif booking.status in AWAITING_PAYMENT_STATUSES and (
        booking.hold_expires_at is not None and booking.hold_expires_at > now
    ):
        voice = customer_voice(org, booking.customer)
        text = voice._(
            "Your booking {reference} is held until {expires}.\nPay here to confirm: {link}",
            reference=booking.reference,
            expires=voice.when(booking.hold_expires_at),
            link=pay_url(booking, base_url),
        )
    else:
        raise PaymentError(
            f"{booking.reference} is {status_label(booking.status)}; "
            "there is no confirmation to resend."
        )
    notify.to_customer(session, org, booking.customer, text, now, reference=booking.reference)
    timeline.record(
        session, booking, "booking.confirmation_resent", actor=actor, source="admin", at=now
    )
    return text


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


def refund(
    session: Session,
    org: Organization,
    payment: Payment,
    amount: int,
    reason: str,
    now: datetime,
    *,
    stripe: StripeAccount,
) -> Refund:
    if payment.status not in RECEIVED_PAYMENT_STATUSES:
        raise PaymentError(
            f"payment {payment.id} is {payment.status}; only money received is refunded"
        )
    amount = min(amount, payment.amount_minor - payment.refunded_minor)
    if amount <= 0:
        raise PaymentError(f"payment {payment.id} has nothing left to refund")
    provider_id = None
    if payment.provider == "stripe":
        if not payment.payment_intent_id:
            raise PaymentError(f"payment {payment.id} has no Stripe payment to refund")
        client = stripe.client()
        try:
            made = client.Refund.create(
                payment_intent=payment.payment_intent_id,
                amount=amount,
                metadata={"payment_id": str(payment.id), "reason": reason[:100]},
                idempotency_key=f"refund:{payment.id}:{payment.refunded_minor}:{amount}",
            )
        except client.StripeError as exc:
            # Nothing is written: the refund can be tried again once Stripe answers.
            raise PaymentError(
                f"Stripe did not make the refund: {exc.user_message or exc}"
            ) from exc
        provider_id = made["id"]
    row = Refund(
        organization_id=org.id,
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason[:64],
        provider_refund_id=provider_id,
        created_at=now,
    )
    session.add(row)
    payment.refunded_minor += amount
    payment.booking.paid_minor -= amount
    _record_refund(
        session, payment, now, {"amount_minor": amount, "reason": reason}, source="system"
    )
    return row


# --- Stripe events --------------------------------------------------------------------------


def handle_stripe_event(
    session: Session,
    event: dict[str, Any],
    now: datetime,
    stripe: StripeAccount,
    counts: ratelimit.Counter,
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
                amount_minor=obj.get("amount_total"),
                payment_intent_id=obj.get("payment_intent"),
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
            amount_minor=obj.get("amount_received"),
            payment_intent_id=obj.get("id"),
        )
    elif kind == "payment_intent.payment_failed":
        outcome = _failed(session, org, payment, obj, now, counts)
    elif kind == "charge.refunded":
        outcome = _refunded_elsewhere(session, org, payment, obj, now)
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


def _refunded_elsewhere(
    session: Session, org: Organization, payment: Payment, obj: dict[str, Any], now: datetime
) -> str:
    """A refund made in Stripe's dashboard (ours are recorded when we make them)."""
    total = int(obj.get("amount_refunded") or 0)
    missing = total - payment.refunded_minor
    if missing <= 0:
        return "already_recorded"
    session.add(
        Refund(
            organization_id=org.id,
            payment_id=payment.id,
            amount_minor=missing,
            reason="refunded in Stripe",
            created_at=now,
        )
    )
    payment.refunded_minor = total
    payment.booking.paid_minor -= missing
    _record_refund(
        session,
        payment,
        now,
        {"amount_minor": missing, "reason": "refunded in Stripe"},
        source="stripe",
    )
    return "refund_recorded"


def _record_refund(
    session: Session, payment: Payment, now: datetime, content: dict[str, Any], *, source: str
) -> None:
    """On the booking's timeline; the payment becomes REFUNDED once all of it is back."""
    if payment.refunded_minor >= payment.amount_minor:
        payment_states.transition(
            session,
            payment,
            PaymentStatus.REFUNDED,
            now,
            event="payment.refunded",
            source=source,
            content=content,
        )
    else:
        timeline.record(
            session,
            payment.booking,
            "payment.refunded",
            source=source,
            at=now,
            content={"payment": payment.id, **content},
        )
