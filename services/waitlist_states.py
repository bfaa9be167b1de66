"""The waitlist entry lifecycle as one table. Every status change of an entry goes through
transition(), which refuses anything not in the table and writes the change to the timeline
of the entry's booking (where staff look: the booking page of the WAITLISTED booking)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import TimelineEvent, WaitlistEntry
from models import WaitlistStatus as W
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[W, frozenset[W]] = {
    W.WAITING: frozenset({W.OFFERED, W.CANCELLED}),
    # Declining an offer puts the customer back in line (at the back).
    W.OFFERED: frozenset({W.ACCEPTED, W.WAITING, W.EXPIRED, W.CANCELLED}),
    # An accepted offer's booking carries on as a hold; the entry is done.
    W.ACCEPTED: frozenset(),
    W.EXPIRED: frozenset(),
    W.CANCELLED: frozenset(),
}


class WaitlistTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(W, ALLOWED, WaitlistTransitionError)


def transition(
    session: Session,
    entry: WaitlistEntry,
    to: W,
    now: datetime,
    *,
    event: str = "waitlist.status_changed",
    actor: str = "system",
    source: str = "system",
    content: dict[str, Any] | None = None,
) -> TimelineEvent:
    booking = entry.booking
    current = LIFECYCLE.move(entry, f"The waitlist place of {booking.reference}", to)
    return timeline.record(
        session,
        booking,
        event,
        actor=actor,
        source=source,
        at=now,
        content={"from": current.value, "to": to.value, **(content or {})},
    )
