"""Running departures: guide assignments, incidents on the trail, and guides' payroll."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType, OrgScopedMixin, utcnow
from models.catalog import Departure, Guide


class GuideAssignment(OrgScopedMixin, Base):
    """An offer of a departure to a guide, and their answer."""

    __tablename__ = "guide_assignments"
    __table_args__ = (Index("ix_assignments_departure_status", "departure_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), index=True)
    role: Mapped[str] = mapped_column(String(24), default="lead")
    fee_minor: Mapped[int]
    status: Mapped[str] = mapped_column(
        String(16), default="offered"
    )  # offered/accepted/declined/cancelled
    reason: Mapped[str | None] = mapped_column(Text)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]
    # Set when the sweep told ops nobody answered the offer in time (once per offer).
    escalated_at: Mapped[datetime | None]

    departure: Mapped[Departure] = relationship()
    guide: Mapped[Guide] = relationship()


class GuideTimeOff(OrgScopedMixin, Base):
    """A spell a guide cannot work (days off, a doctor's appointment): no offer or
    assignment of a departure overlapping it (services/assignments.py)."""

    __tablename__ = "guide_time_off"
    __table_args__ = (Index("ix_guide_time_off_guide_ends", "guide_id", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    guide: Mapped[Guide] = relationship()


class Incident(OrgScopedMixin, Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_departure_status", "departure_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="SET NULL"))
    severity: Mapped[str] = mapped_column(String(8))  # high / medium / low
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / resolved
    text: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    response_minutes: Mapped[int | None]

    departure: Mapped[Departure] = relationship()
    guide: Mapped[Guide | None] = relationship()
    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident", order_by="IncidentUpdate.id", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> str:
        return f"INC-{self.id}"


class IncidentUpdate(Base):
    __tablename__ = "incident_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))  # guide:<id> or staff:<id>
    text: Mapped[str] = mapped_column(Text)
    resolves: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="updates")


class PayrollEntry(OrgScopedMixin, Base):
    """What a guide earned for a departure; one per guide and departure."""

    __tablename__ = "payroll_entries"
    __table_args__ = (UniqueConstraint("guide_id", "departure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), index=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    guide: Mapped[Guide] = relationship()
    departure: Mapped[Departure] = relationship()


class DepartureCancellation(OrgScopedMixin, Base):
    """A departure cancelled by the operator (weather, say): what was done, whom we told,
    and whom staff must still call (no channel, opted out; failed deliveries are added from
    the messages' statuses when read)."""

    __tablename__ = "departure_cancellations"

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    cancelled_at: Mapped[datetime]
    bookings_cancelled: Mapped[int]
    people: Mapped[int]
    refunded_minor: Mapped[int]
    message_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    unreachable: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # Several departures cancelled in one action (a stormy day) share a batch.
    batch: Mapped[str | None] = mapped_column(String(16), index=True)
    # The call list's ticks: phone -> {"by": staff name, "at": ISO time}.
    called: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    departure: Mapped[Departure] = relationship()
