"""The departure lifecycle as one table. Every status change of a departure goes through
transition(), which refuses anything not in the table, stamps the check-in and check-out
times and writes the change to the departure's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Departure, TimelineEvent
from models import DepartureStatus as D
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[D, frozenset[D]] = {
    D.OPEN: frozenset({D.CLOSED, D.STARTED, D.CANCELLED}),
    # Closed to new bookings; it still runs.
    D.CLOSED: frozenset({D.OPEN, D.STARTED, D.CANCELLED}),
    # Under way: only the guide's check-out ends it.
    D.STARTED: frozenset({D.COMPLETED}),
    D.COMPLETED: frozenset(),
    D.CANCELLED: frozenset(),
}


class DepartureTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(D, ALLOWED, DepartureTransitionError)


def transition(
    session: Session,
    departure: Departure,
    to: D,
    now: datetime,
    *,
    event: str,
    actor: str = "system",
    source: str = "system",
    content: dict[str, Any] | None = None,
) -> TimelineEvent:
    """`event` names what happened (departure.started...). The event is returned so a caller
    can add what it only knows later (how many bookings a cancellation reached)."""
    current = LIFECYCLE.move(departure, f"{departure.code}", to)
    if to == D.STARTED:
        departure.checked_in_at = now
    if to == D.COMPLETED:
        departure.checked_out_at = now
    return timeline.record(
        session,
        departure,
        event,
        actor=actor,
        source=source,
        at=now,
        content={"from": current.value, "to": to.value, **(content or {})},
    )
