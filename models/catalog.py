"""What an operator sells: tours, their price tiers, guides and dated departures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType, OrgScopedMixin, TimestampMixin
from models.enums import DepartureStatus

guide_tours = Table(
    "guide_tours",
    Base.metadata,
    Column("guide_id", Integer, ForeignKey("guides.id", ondelete="CASCADE"), primary_key=True),
    Column("tour_id", Integer, ForeignKey("tours.id", ondelete="CASCADE"), primary_key=True),
)


class Tour(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "tours"
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(default=list)
    code_prefix: Mapped[str] = mapped_column(String(6))
    duration_minutes: Mapped[int]
    meeting_point: Mapped[str | None] = mapped_column(Text)
    # The meeting point's map pin (WGS 84 degrees), sent on the day of the departure.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # What customers may ask about, as the catalog file gives it (services/catalog_schema):
    # texts are a string or a map language -> string.
    description: Mapped[str | dict[str, str] | None] = mapped_column(JSONType)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    faq: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Overrides the organization's settings.cancellation_policy when set.
    cancellation_policy: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)

    price_tiers: Mapped[list[PriceTier]] = relationship(
        back_populates="tour", cascade="all, delete-orphan", order_by="PriceTier.position"
    )
    guides: Mapped[list[Guide]] = relationship(secondary=guide_tours, back_populates="tours")

    def tier(self, code: str) -> PriceTier | None:
        return next((t for t in self.price_tiers if t.code == code), None)


class PriceTier(Base):
    __tablename__ = "price_tiers"
    __table_args__ = (UniqueConstraint("tour_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    price_minor: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    tour: Mapped[Tour] = relationship(back_populates="price_tiers")


class Guide(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "guides"
    __table_args__ = (UniqueConstraint("organization_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    trip_fee_minor: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # The languages the guide speaks, the one to write to them in first (bot/guides.py).
    languages: Mapped[list[str]] = mapped_column(default=list)

    tours: Mapped[list[Tour]] = relationship(secondary=guide_tours, back_populates="guides")


class Departure(OrgScopedMixin, TimestampMixin, Base):
    """One dated, timed run of a tour with its own seat capacity."""

    __tablename__ = "departures"
    __table_args__ = (
        UniqueConstraint("organization_id", "code"),
        UniqueConstraint("tour_id", "starts_at"),
        Index("ix_departures_org_starts_at", "organization_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(ForeignKey("tours.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(24))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=DepartureStatus.OPEN)
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("guides.id", ondelete="SET NULL"))
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]

    tour: Mapped[Tour] = relationship()
    guide: Mapped[Guide | None] = relationship()
