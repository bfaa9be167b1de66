"""The payment lifecycle as one table. Every status change of a payment goes through
transition(), which refuses anything not in the table and writes the change to the timeline
of the payment's booking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Payment, TimelineEvent
from models import PaymentStatus as P
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[P, frozenset[P]] = {
    P.PENDING: frozenset({P.PAID, P.FAILED}),
    # A declined card can be tried again on the same Stripe checkout, and succeed.
    P.FAILED: frozenset({P.PAID}),
    # Only once all of it is returned: a partial refund leaves it PAID.
    P.PAID: frozenset({P.REFUNDED}),
    P.REFUNDED: frozenset(),
}


class PaymentTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(P, ALLOWED, PaymentTransitionError)


def transition(
    session: Session,
    payment: Payment,
    to: P,
    now: datetime,
    *,
    event: str,
    actor: str = "system",
    source: str = "system",
    content: dict[str, Any] | None = None,
) -> TimelineEvent:
    """`event` names what happened for the booking's timeline (payment.received...)."""
    current = LIFECYCLE.move(payment, f"Payment {payment.id}", to)
    payment.updated_at = now
    if to == P.PAID:
        payment.paid_at = now
    return timeline.record(
        session,
        payment.booking,
        event,
        actor=actor,
        source=source,
        at=now,
        content={"payment": payment.id, "from": current.value, "to": to.value, **(content or {})},
    )
