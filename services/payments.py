"""Taking and returning money: Stripe Checkout in production, a local fake checkout in the
embedded default. Every payment is applied under the booking's departure lock and at most
once (Payment.status), every Stripe event at most once (ProviderEvent), and money that
arrives for seats that are gone is refunded at once: it is never kept for a booking that
cannot happen."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
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
from services.money import format_money, is_currency

log = logging.getLogger(__name__)

# Stripe accepts a Checkout Session expiry between 30 minutes and 24 hours from now.
MIN_CHECKOUT = timedelta(minutes=30)
MAX_CHECKOUT = timedelta(hours=24)
# Where `make run` serves: the links' address when PUBLIC_BASE_URL is not set.
LOCAL_BASE_URL = "http://127.0.0.1:5000"
# A checkout with less than this left is not offered again: the customer would not finish.
REUSE_MARGIN = timedelta(minutes=10)


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
    public address, PUBLIC_BASE_URL). It carries the booking's secret: the reference alone
    opens nothing."""
    base = (base_url or LOCAL_BASE_URL).rstrip("/")
    return f"{base}/pay/{booking.reference}/{booking.pay_token}"


def booking_for_link(session: Session, reference: str, token: str) -> Booking | None:
    """The booking a pay link is for, or None when the reference and secret do not match
    (compared in constant time)."""
    booking = session.scalar(select(Booking).where(Booking.reference == reference.strip().upper()))
    if booking is None or not secrets.compare_digest(
        booking.pay_token.encode(), token.strip().encode()
    ):
        return None
    return booking


def amount_for(booking: Booking, kind: str) -> int:
    if kind == "deposit":
        # What is still missing of the deposit (a short payment may have paid part of it).
        return max(0, min(required_to_confirm(booking) - booking.paid_minor, booking.balance_minor))
    if kind in ("full", "balance"):
        return booking.balance_minor
    raise PaymentError(f"unknown payment kind {kind!r}")


def payable_kinds(booking: Booking) -> list[str]:
    # A hold pending the owner's approval holds seats but is not payable: paying would
    # confirm it without the owner.
    if booking.balance_minor <= 0:
        return []
    unconfirmed = booking.status in AWAITING_PAYMENT_STATUSES
    # Approved by the owner before any payment: confirmed, but the deposit is what the
    # approval message asks for, so it is offered as for a hold.
    approved_unpaid = booking.status == BookingStatus.CONFIRMED and booking.paid_minor == 0
    if unconfirmed or approved_unpaid:
        if booking.paid_minor < required_to_confirm(booking) < booking.total_minor:
            return ["deposit", "full"]
        return ["full"]
    if booking.status == BookingStatus.CONFIRMED:
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


def open_payment(
    session: Session,
    org: Organization,
    booking: Booking,
    kind: str,
    now: datetime,
    stripe: StripeAccount,
) -> Payment:
    """The payment row a click on Pay is for, recorded before any checkout exists, so an
    event about it always finds it: the caller commits, then calls checkout_url. A second
    click for the same amount gets the same row back while its checkout is open (the
    booking row is locked, so two clicks at once get one row too)."""
    session.flush()
    session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    session.refresh(booking)
    if kind not in payable_kinds(booking):
        raise not_payable_because(booking) or PaymentError(
            N_("{reference} has nothing to pay as {kind} ({status})."),
            reference=booking.reference,
            kind=phrases.payment_kind(kind),
            status=phrases.status(booking.status),
        )
    amount = amount_for(booking, kind)
    provider = "stripe" if stripe.enabled else "fake"
    open_one = session.scalar(
        select(Payment)
        .where(
            Payment.booking_id == booking.id,
            Payment.kind == kind,
            Payment.amount_minor == amount,
            Payment.currency == booking.currency,
            Payment.provider == provider,
            # A declined card can be tried again on the same checkout.
            Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.FAILED)),
            or_(
                Payment.checkout_expires_at.is_(None),
                Payment.checkout_expires_at > now + REUSE_MARGIN,
            ),
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )
    if open_one is not None:
        return open_one
    payment = Payment(
        organization_id=org.id,
        booking_id=booking.id,
        kind=kind,
        amount_minor=amount,
        currency=booking.currency,
        provider=provider,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def checkout_url(
    session: Session,
    payment: Payment,
    now: datetime,
    base_url: str,
    stripe: StripeAccount,
) -> str:
    """Where to pay `payment`: its open Stripe Checkout, made once (the idempotency key is
    the payment's, so a retry after a lost answer gets the same session), or the fake
    page in the embedded default."""
    booking = payment.booking
    link = pay_url(booking, base_url)
    if payment.provider != "stripe":
        return f"{link}/fake/{payment.id}"
    if (
        payment.checkout_url
        and payment.checkout_expires_at
        and (payment.checkout_expires_at > now + REUSE_MARGIN)
    ):
        return payment.checkout_url
    deadline = booking.hold_expires_at or (now + MAX_CHECKOUT)
    expires = min(max(deadline, now + MIN_CHECKOUT), now + MAX_CHECKOUT)
    client = stripe.client()
    try:
        checkout = client.checkout.Session.create(
            mode="payment",
            line_items=_line_items(booking, payment.kind, payment.amount_minor),
            client_reference_id=booking.reference,
            metadata={
                "booking": booking.reference,
                "payment_id": str(payment.id),
                "kind": payment.kind,
            },
            payment_intent_data={
                "metadata": {"booking": booking.reference, "payment_id": str(payment.id)}
            },
            expires_at=int(expires.timestamp()),
            success_url=f"{link}/done",
            cancel_url=link,
            # The booking's secret makes the key unique beyond this database (a test or a
            # restored database reuses payment ids; Stripe keeps keys for 24 hours).
            idempotency_key=f"checkout:{booking.pay_token}:{payment.id}",
        )
    except client.StripeError as exc:
        log.warning("Stripe refused a checkout for payment %s: %s", payment.id, exc)
        raise PaymentError(
            N_("The payment page could not be opened just now. Please try again in a minute.")
        ) from exc
    payment.checkout_session_id = checkout["id"]
    payment.checkout_url = checkout["url"]
    payment.checkout_expires_at = expires
    timeline.record(
        session,
        booking,
        "payment.checkout_started",
        at=now,
        content={
            "kind": payment.kind,
            "amount_minor": payment.amount_minor,
            "session": checkout["id"],
        },
    )
    return str(checkout["url"])


def start_checkout(
    session: Session,
    org: Organization,
    booking: Booking,
    kind: str,
    now: datetime,
    base_url: str,
    stripe: StripeAccount,
) -> tuple[Payment, str]:
    """open_payment and checkout_url in one transaction, for callers that need no commit
    between them (the pay page commits between them)."""
    payment = open_payment(session, org, booking, kind, now, stripe)
    return payment, checkout_url(session, payment, now, base_url, stripe)


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


def required_to_confirm(booking: Booking) -> int:
    """What must be paid before a booking is confirmed: the deposit, or the whole price
    when there is no deposit (0%) or the deposit would be all of it."""
    if 0 < booking.deposit_minor < booking.total_minor:
        return booking.deposit_minor
    return booking.total_minor


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
    booking = _lock(session, payment)
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
        _record_refund(session, payment, now, {"amount_minor": 0}, source=source)
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
        for paid in _received(session, booking):
            left = paid.amount_minor - paid.refunded_minor
            if left > 0:
                refund(session, org, paid, left, "seats gone before payment", now, stripe=stripe)
        _lost_seats(session, org, booking, now, counts)
        return "refunded"
    _tell_paid(session, org, booking, received, now, base_url)
    return "confirmed"


def _lock(session: Session, payment: Payment) -> Booking:
    """Locks the payment's row and then its booking's (SELECT ... FOR UPDATE, always in
    that order) and reads both afresh: what they say cannot change until the commit."""
    session.flush()
    session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    session.execute(select(Booking.id).where(Booking.id == payment.booking_id).with_for_update())
    session.refresh(payment)
    session.refresh(payment.booking)
    return payment.booking


def refund_lapsed_holds(
    session: Session, references: list[str], now: datetime, stripe: StripeAccount
) -> list[str]:
    """Holds the sweep just expired with part of their money paid (less than the deposit
    arrived): the money goes back, the customer is told, and the owner if Stripe refused.
    Returns the references refunded."""
    if not references:
        return []
    refunded = []
    lapsed = session.scalars(
        select(Booking).where(Booking.reference.in_(references), Booking.paid_minor > 0)
    ).all()
    for booking in lapsed:
        org = session.get(Organization, booking.organization_id)
        assert org is not None
        amount = booking.paid_minor
        try:
            with session.begin_nested():
                for paid in _received(session, booking):
                    left = paid.amount_minor - paid.refunded_minor
                    if left > 0:
                        refund(session, org, paid, left, "hold lapsed unpaid", now, stripe=stripe)
        except PaymentError as exc:
            for phone in _money_phones(org):
                notify.to_staff(
                    session,
                    org,
                    phone,
                    f"⚠️ {booking.reference} lapsed with "
                    f"{format_money(amount, booking.currency)} paid, and the refund failed "
                    f"({exc.message}). Refund it from the booking page.",
                    now,
                )
            continue
        voice = customer_voice(org, booking.customer)
        notify.to_customer(
            session,
            org,
            booking.customer,
            voice._(
                "Your hold {reference} lapsed before enough was paid to confirm it, so we "
                "have refunded the {amount} you paid. Reply to book again.",
                reference=booking.reference,
                amount=voice.money(amount, booking.currency),
            ),
            now,
            reference=booking.reference,
        )
        refunded.append(booking.reference)
    return refunded


def _received(session: Session, booking: Booking) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.PAID)
            .order_by(Payment.id)
        )
    )


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
    for phone in _money_phones(org):
        notify.to_staff(
            session,
            org,
            phone,
            f"⚠️ Payment mismatch on {booking.reference}: asked {asked}, received {got}. "
            f"See the booking's timeline.",
            now,
        )


def _money_phones(org: Organization) -> list[str]:
    """Who hears about money that does not add up: the owner, else ops."""
    return [org.owner_phone] if org.owner_phone else list(org.ops_phones or [])


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


def balance_due_at(org: Organization, booking: Booking) -> datetime:
    """When the balance is due: the one rule the confirmation, the reminders, the pay page
    and the admin all state. balance_due_days before the start; a booking made after that
    day is due at once (from when it was made), never "due" on a day already past."""
    nominal = booking.departure.starts_at - timedelta(days=org.settings.balance_due_days)
    return max(nominal, booking.created_at) if booking.created_at else nominal


def confirmation_text(
    org: Organization, booking: Booking, now: datetime, *, base_url: str | None = None
) -> str:
    """The booking confirmed, in the customer's words (staff see what was sent); with
    base_url, the link to pay what is left."""
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
        balance = voice.money(booking.balance_minor, booking.currency)
        due = balance_due_at(org, booking)
        lines.append(
            voice._("Balance: {balance}, due now", balance=balance)
            if due <= now
            else voice._(
                "Balance: {balance} (due {due})", balance=balance, due=voice.date(due, year=True)
            )
        )
        if base_url is not None:
            lines.append(voice._("Pay it here: {link}", link=pay_url(booking, base_url)))
    return "\n".join(lines)


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
        text = confirmation_text(org, booking, now, base_url=base_url)
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
    """Returns `amount` of a payment, never more than is left of it. The payment and its
    booking are locked first (SELECT ... FOR UPDATE), so two refunds at once are made one
    after the other and both count."""
    booking = _lock(session, payment)
    if payment.status not in RECEIVED_PAYMENT_STATUSES:
        raise PaymentError(
            f"payment {payment.id} is {payment.status}; only money received is refunded"
        )
    left = payment.amount_minor - payment.refunded_minor
    if left <= 0:
        raise PaymentError(f"payment {payment.id} has nothing left to refund")
    if amount <= 0 or amount > left:
        raise PaymentError(
            f"A refund of payment {payment.id} must be more than zero and at most "
            f"{format_money(left, payment.currency)}, what is left of it."
        )
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
                idempotency_key=(
                    f"refund:{payment.payment_intent_id}:{payment.refunded_minor}:{amount}"
                ),
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
    if payment.currency == booking.currency:  # money in another currency never counted
        booking.paid_minor -= amount
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
    """A refund made in Stripe's dashboard (ours are recorded when we make them). It may
    arrive before the payment's own success event: then it is kept on the payment, and
    only what is left is counted when the payment arrives (settle)."""
    booking = _lock(session, payment)
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
    content = {"amount_minor": missing, "reason": "refunded in Stripe"}
    if payment.status not in RECEIVED_PAYMENT_STATUSES:
        # Nothing was counted for the booking yet, so nothing comes off it now.
        timeline.record(
            session,
            booking,
            "payment.refunded",
            source="stripe",
            at=now,
            content={"payment": payment.id, "before_payment": True, **content},
        )
        return "refund_recorded"
    if payment.currency == booking.currency:
        # Never below what this payment added.
        booking.paid_minor -= min(missing, max(0, payment.amount_minor - (total - missing)))
    _record_refund(session, payment, now, content, source="stripe")
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
