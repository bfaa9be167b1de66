"""What a booking owes and where it is paid: the shared core of taking and returning money.

Taking money is split by what happens to it, pretix-style, as plain functions over the
models and a session (none commits):
- services/payments.py (this module): the Stripe account, the pay link and its secret,
  what must be paid to confirm and what can be paid now, the one due-date rule
  (balance_due_at) and the confirmation that states it, and the payment/booking lock;
- services/checkout.py: a click on Pay becomes a Payment row and a Stripe Checkout;
- services/settlement.py: money arriving (Stripe's events, the fake checkout) is applied
  once, under the departure lock, as what it is;
- services/refunds.py: money going back, never more than was paid, locked.

Stripe Checkout in production, a local fake checkout in the embedded default."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config
from models import (
    AWAITING_PAYMENT_STATUSES,
    Booking,
    BookingStatus,
    Organization,
    Payment,
    PaymentStatus,
)
from models.enums import status_label
from services import notify, timeline
from services.errors import ServiceError
from services.i18n import N_, customer_voice

# Where `make run` serves: the links' address when PUBLIC_BASE_URL is not set.
LOCAL_BASE_URL = "http://127.0.0.1:5000"
# How staff took money by hand (provider "manual"), in their words.
PAYMENT_METHODS: dict[str, str] = {
    "card_phone": "card by phone",
    "cash": "cash",
    "bank_transfer": "bank transfer",
}


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


def required_to_confirm(booking: Booking) -> int:
    """What must be paid before a booking is confirmed: the deposit, or the whole price
    when there is no deposit (0%) or the deposit would be all of it."""
    if 0 < booking.deposit_minor < booking.total_minor:
        return booking.deposit_minor
    return booking.total_minor


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


def lock_payment(session: Session, payment: Payment) -> Booking:
    """Locks the payment's row and then its booking's (SELECT ... FOR UPDATE, always in
    that order) and reads both afresh: what they say cannot change until the commit."""
    session.flush()
    session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    session.execute(select(Booking.id).where(Booking.id == payment.booking_id).with_for_update())
    session.refresh(payment)
    session.refresh(payment.booking)
    return payment.booking


def received_payments(session: Session, booking: Booking) -> list[Payment]:
    """The booking's payments that brought money and still hold some of it (PAID; a
    REFUNDED one has nothing left): what goes back when the booking cannot happen."""
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.PAID)
            .order_by(Payment.id)
        )
    )


def money_phones(org: Organization) -> list[str]:
    """Who hears about money that does not add up: the owner, else ops."""
    return [org.owner_phone] if org.owner_phone else list(org.ops_phones or [])
