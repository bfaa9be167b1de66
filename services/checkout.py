"""A click on Pay: the Payment row it is for (recorded before any checkout exists, so
Stripe's event for it always finds it), and the Stripe Checkout Session that takes the money
(made once per payment; the embedded default's fake checkout instead)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Booking, Organization, Payment, PaymentStatus
from services import phrases, timeline
from services.i18n import N_
from services.payments import (
    PaymentError,
    StripeAccount,
    amount_for,
    not_payable_because,
    pay_url,
    payable_kinds,
)

log = logging.getLogger(__name__)


class CheckoutError(PaymentError):
    """A checkout that cannot be opened (nothing to pay as that kind, Stripe refused)."""


# Stripe accepts a Checkout Session expiry between 30 minutes and 24 hours from now.
MIN_CHECKOUT = timedelta(minutes=30)


MAX_CHECKOUT = timedelta(hours=24)


# A checkout with less than this left is not offered again: the customer would not finish.
REUSE_MARGIN = timedelta(minutes=10)


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
        raise not_payable_because(booking) or CheckoutError(
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
        raise CheckoutError(
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
