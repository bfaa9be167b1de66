"""Writes the audit trail. Every state change of a lead, booking or departure calls record()
inside the same transaction as the change, so the two can never disagree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, Departure, Lead, ObjectType, TimelineEvent, WaitlistEntry, utcnow

Trackable = Lead | Booking | Departure | WaitlistEntry


def _identify(obj: Trackable) -> tuple[ObjectType, str]:
    if isinstance(obj, Lead):
        return ObjectType.LEAD, obj.reference
    if isinstance(obj, Booking):
        return ObjectType.BOOKING, obj.reference
    if isinstance(obj, Departure):
        return ObjectType.DEPARTURE, obj.code
    return ObjectType.WAITLIST, f"WL-{obj.id}"


def record(
    session: Session,
    obj: Trackable,
    event_type: str,
    *,
    actor: str = "system",
    source: str = "system",
    content: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    object_type, ref = _identify(obj)
    if obj.id is None:
        session.flush()
    event = TimelineEvent(
        organization_id=obj.organization_id,
        object_type=object_type,
        object_id=obj.id,
        object_ref=ref,
        event_type=event_type,
        actor=actor,
        source=source,
        content=content or {},
        created_at=at or utcnow(),
    )
    session.add(event)
    return event


def events_for(session: Session, organization_id: int, ref: str) -> list[TimelineEvent]:
    """Everything that happened to the object with this reference or code, oldest first."""
    stmt = (
        select(TimelineEvent)
        .where(TimelineEvent.organization_id == organization_id, TimelineEvent.object_ref == ref)
        .order_by(TimelineEvent.created_at, TimelineEvent.id)
    )
    return list(session.scalars(stmt))
