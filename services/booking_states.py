"""The booking lifecycle as one table. Every status change goes through transition(),
which refuses anything not in the table and writes the change to the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Booking
from models import BookingStatus as S
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[S, frozenset[S]] = {
    S.WAITLISTED: frozenset({S.HELD, S.CANCELLED, S.EXPIRED}),
    S.HELD: frozenset({S.PENDING_APPROVAL, S.PAYMENT_PENDING, S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    S.PENDING_APPROVAL: frozenset({S.PAYMENT_PENDING, S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    S.PAYMENT_PENDING: frozenset({S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    # Money can arrive after a hold lapsed; bookings.confirm_booking recounts first.
    S.EXPIRED: frozenset({S.CONFIRMED}),
    S.CONFIRMED: frozenset({S.CANCELLED, S.COMPLETED, S.NO_SHOW}),
    S.CANCELLED: frozenset(),
    S.COMPLETED: frozenset(),
    S.NO_SHOW: frozenset(),
}


class BookingTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(S, ALLOWED, BookingTransitionError)


def transition(
    session: Session,
    booking: Booking,
    to: S,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
    reason: str | None = None,
    content: dict[str, Any] | None = None,
    capacity_rechecked: bool = False,
) -> None:
    if booking.status == S.EXPIRED and to == S.CONFIRMED and not capacity_rechecked:
        # Its seats were released when it expired and may belong to someone else now.
        raise BookingTransitionError(
            f"Booking {booking.reference} expired; confirming it needs a fresh capacity check."
        )
    current = LIFECYCLE.move(booking, f"Booking {booking.reference}", to)
    if reason is not None:
        booking.status_reason = reason
    if to == S.CONFIRMED:
        booking.confirmed_at = now
    if to == S.CANCELLED:
        booking.cancelled_at = now
    timeline.record(
        session,
        booking,
        "booking.status_changed",
        actor=actor,
        source=source,
        at=now,
        content={"from": current.value, "to": to.value, "reason": reason, **(content or {})},
    )
