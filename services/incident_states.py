"""The incident lifecycle as one table. Every status change of an incident goes through
transition(), which refuses anything not in the table, stamps the resolution and its
response time and writes the change to the timeline of the incident's departure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Incident, TimelineEvent
from models import IncidentStatus as I
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[I, frozenset[I]] = {
    I.OPEN: frozenset({I.RESOLVED}),
    # Something new on the trail is a new ISSUE, with its own severity and alerts.
    I.RESOLVED: frozenset(),
}


class IncidentTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(I, ALLOWED, IncidentTransitionError)


def transition(
    session: Session,
    incident: Incident,
    to: I,
    now: datetime,
    *,
    actor: str,
    source: str,
    content: dict[str, Any] | None = None,
) -> TimelineEvent:
    current = LIFECYCLE.move(incident, incident.number, to)
    extra: dict[str, Any] = {}
    if to == I.RESOLVED:
        incident.resolved_at = now
        incident.response_minutes = int((now - incident.opened_at).total_seconds() // 60)
        extra["response_minutes"] = incident.response_minutes
    return timeline.record(
        session,
        incident.departure,
        f"incident.{to.value}",
        actor=actor,
        source=source,
        at=now,
        content={
            "incident": incident.number,
            "from": current.value,
            "to": to.value,
            **(content or {}),
            **extra,
        },
    )
