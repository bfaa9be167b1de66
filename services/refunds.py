"""Money going back: never more than what is left of a payment, the payment and its booking
locked first so two refunds at once both count; refunds made in Stripe's dashboard
recorded as they arrive; and the part-payments of holds that lapsed returned.

Money staff took by hand (provider "manual": card by phone, cash, bank transfer) cannot be
sent back from here: its refund is recorded as any other, and a task asks a person (the one
who took it) to hand it back (by_hand)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    RECEIVED_PAYMENT_STATUSES,
    Booking,
    Organization,
    Payment,
    PaymentStatus,
    Refund,
    Role,
    StaffUser,
    Task,
    TaskPriority,
)
from services import notify, payment_states, timeline
from services.i18n import customer_voice
from services.money import format_money
from services.payments import (
    PAYMENT_METHODS,
    PaymentError,
    StripeAccount,
    lock_payment,
    money_phones,
    received_payments,
)


class RefundError(PaymentError):
    """A refund that cannot be made (more than is left, nothing received, Stripe refused)."""


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
    booking = lock_payment(session, payment)
    if payment.status not in RECEIVED_PAYMENT_STATUSES:
        raise RefundError(
            f"payment {payment.id} is {payment.status}; only money received is refunded"
        )
    left = payment.amount_minor - payment.refunded_minor
    if left <= 0:
        raise RefundError(f"payment {payment.id} has nothing left to refund")
    if amount <= 0 or amount > left:
        raise RefundError(
            f"A refund of payment {payment.id} must be more than zero and at most "
            f"{format_money(left, payment.currency)}, what is left of it."
        )
    provider_id = None
    if payment.provider == "stripe":
        if not payment.payment_intent_id:
            raise RefundError(f"payment {payment.id} has no Stripe payment to refund")
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
            raise RefundError(f"Stripe did not make the refund: {exc.user_message or exc}") from exc
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
    record_refund(
        session, payment, now, {"amount_minor": amount, "reason": reason}, source="system"
    )
    if payment.provider == "manual":
        session.flush()  # the task names this refund
        _task_to_hand_back(session, org, payment, booking, row, now)
    return row


def _taken(payment: Payment) -> str:
    """How money was taken by hand: 'card by phone, POS 4471'."""
    method = payment.method or ""
    return ", ".join(
        p for p in (PAYMENT_METHODS.get(method, method), payment.external_reference) if p
    )


def by_hand(payment: Payment, amount: int) -> str:
    """How a refund of money taken by hand is made: 'Return $98 by hand (card by phone,
    POS 4471)'; '' for a payment the system refunds itself."""
    if payment.provider != "manual":
        return ""
    return f"Return {format_money(amount, payment.currency)} by hand ({_taken(payment)})"


def _task_to_hand_back(
    session: Session,
    org: Organization,
    payment: Payment,
    booking: Booking,
    refund_row: Refund,
    now: datetime,
) -> Task:
    """A task for the person who took the money (or, when they have left or nobody is
    named, an owner; with no active owner, the owner's list): the refund is on the books,
    the money is still with us."""
    amount = refund_row.amount_minor
    taker = session.get(StaffUser, payment.recorded_by_id) if payment.recorded_by_id else None
    assignee = taker.id if taker is not None and taker.active else _an_owner(session, org)
    task = Task(
        organization_id=org.id,
        kind="refund",
        priority=TaskPriority.NORMAL,
        title=(
            f"Return {format_money(amount, payment.currency)} to "
            f"{notify.display_name(booking.customer)} by hand: {_taken(payment)}"
        )[:300],
        details="\n".join(
            [
                f"{booking.customer.phone} · {notify.booking_line(org, booking)}",
                "The refund is recorded; no money has moved: it was taken by hand, so it goes "
                "back the same way.",
            ]
        ),
        customer_id=booking.customer_id,
        booking_id=booking.id,
        refund_id=refund_row.id,
        assigned_to_id=assignee,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    timeline.record(
        session,
        booking,
        "task.opened",
        at=now,
        content={"task": task.number, "kind": "refund", "text": task.title},
    )
    return task


def _an_owner(session: Session, org: Organization) -> int | None:
    return session.scalar(
        select(StaffUser.id)
        .where(
            StaffUser.organization_id == org.id,
            StaffUser.role == Role.OWNER,
            StaffUser.active.is_(True),
        )
        .order_by(StaffUser.id)
        .limit(1)
    )


def record_refund(
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


def refunded_elsewhere(
    session: Session, org: Organization, payment: Payment, obj: dict[str, Any], now: datetime
) -> str:
    """A refund made in Stripe's dashboard (ours are recorded when we make them). It may
    arrive before the payment's own success event: then it is kept on the payment, and
    only what is left is counted when the payment arrives (settle)."""
    booking = lock_payment(session, payment)
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
    record_refund(session, payment, now, content, source="stripe")
    return "refund_recorded"


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
                for paid in received_payments(session, booking):
                    left = paid.amount_minor - paid.refunded_minor
                    if left > 0:
                        refund(session, org, paid, left, "hold lapsed unpaid", now, stripe=stripe)
        except RefundError as exc:
            for phone in money_phones(org):
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
