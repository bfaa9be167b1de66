"""The guide assignment lifecycle as one table. Every status change of an assignment goes
through transition(), which refuses anything not in the table, stamps the answer and writes
it to the timeline of the assignment's departure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import AssignmentStatus as A
from models import GuideAssignment, TimelineEvent
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[A, frozenset[A]] = {
    A.OFFERED: frozenset({A.ACCEPTED, A.DECLINED, A.CANCELLED}),
    # A guide who accepted can still drop out (DECLINE), or ops release them.
    A.ACCEPTED: frozenset({A.DECLINED, A.CANCELLED}),
    # Offering the departure to the guide again is a new assignment.
    A.DECLINED: frozenset(),
    A.CANCELLED: frozenset(),
}


class AssignmentTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(A, ALLOWED, AssignmentTransitionError)


def transition(
    session: Session,
    assignment: GuideAssignment,
    to: A,
    now: datetime,
    *,
    event: str,
    actor: str,
    source: str,
    reason: str | None = None,
    content: dict[str, Any] | None = None,
) -> TimelineEvent:
    """`event` names what happened (guide.accepted...); `reason` is the guide's or ops' own
    words, kept on the assignment."""
    current = LIFECYCLE.move(assignment, f"The offer to {assignment.guide.name}", to)
    assignment.responded_at = now
    if to != A.ACCEPTED:
        assignment.reason = reason or None
    return timeline.record(
        session,
        assignment.departure,
        event,
        actor=actor,
        source=source,
        at=now,
        content={"from": current.value, "to": to.value, **(content or {})},
    )
