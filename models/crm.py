"""Customers and the leads sales reps work."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, OrgScopedMixin, TimestampMixin
from models.catalog import Departure, Tour
from models.enums import LeadStatus
from models.organization import StaffUser

_TRIGRAM_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("lower_name", func.lower(text("name")).label("lower_name")),
    ("lower_email", func.lower(text("email")).label("lower_email")),
    ("phone", text("phone")),
)


class Customer(OrgScopedMixin, TimestampMixin, Base):
    """A returning customer is recognised by their phone (E.164) within the organization."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("organization_id", "phone"),
        # On PostgreSQL, trigram indexes answer the search box's LIKE '%wils%' on a name,
        # email or phone fragment without reading every customer (migration 0023).
        *(
            Index(
                f"ix_customers_trgm_{n}",
                column,
                postgresql_using="gin",
                postgresql_ops={label: "gin_trgm_ops"},
            ).ddl_if(dialect="postgresql")
            for n, (label, column) in enumerate(_TRIGRAM_COLUMNS)
        ),
    )
    organization_index = False

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str | None] = mapped_column(String(12))
    # What staff want the next person who talks to them to know.
    notes: Mapped[str | None] = mapped_column(Text)
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None]


class Lead(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "leads"
    __table_args__ = (
        # The board's columns: a status's newest first (bench.admin, a year of leads).
        Index("ix_leads_org_status_updated", "organization_id", "status", "updated_at"),
        # A rep's open leads (choose_assignee), and the rep's leads when a rep is deleted.
        Index("ix_leads_assigned_to_id_status", "assigned_to_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=LeadStatus.NEW)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    reason: Mapped[str | None] = mapped_column(String(32))
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    tour_id: Mapped[int | None] = mapped_column(ForeignKey("tours.id", ondelete="SET NULL"))
    departure_id: Mapped[int | None] = mapped_column(
        ForeignKey("departures.id", ondelete="SET NULL")
    )
    party: Mapped[dict[str, int]] = mapped_column(default=dict)
    preferred_date: Mapped[date | None]
    preferred_month: Mapped[str | None] = mapped_column(String(7))
    notes: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)

    customer: Mapped[Customer] = relationship()
    assigned_to: Mapped[StaffUser | None] = relationship()
    tour: Mapped[Tour | None] = relationship()
    departure: Mapped[Departure | None] = relationship()
