"""The audit trail: one row for every state change of a lead, booking or departure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, OrgScopedMixin, utcnow


class TimelineEvent(OrgScopedMixin, Base):
    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_object", "organization_id", "object_type", "object_id"),
        Index("ix_timeline_ref", "organization_id", "object_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int]
    # The human reference (BK-..., LD-..., departure code) so staff can search by it.
    object_ref: Mapped[str] = mapped_column(String(24))
    event_type: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
