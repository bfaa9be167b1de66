"""Quotes, bookings and waitlist entries: everything that claims seats on a departure."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, OrgScopedMixin, TimestampMixin
from models.catalog import Departure
from models.crm import Customer, Lead
from models.enums import BookingStatus, WaitlistStatus
from models.organization import StaffUser

# Bookings that will not happen owe nothing, whatever was paid or refunded.
NOTHING_OWED_STATUSES = (BookingStatus.CANCELLED, BookingStatus.EXPIRED, BookingStatus.WAITLISTED)


def new_pay_token() -> str:
    """128 random bits, URL-safe: a pay link cannot be guessed from its reference."""
    return secrets.token_urlsafe(16)


class Quote(OrgScopedMixin, TimestampMixin, Base):
    """A priced offer for a party on a departure. Lines are a snapshot, so later price
    changes never alter what the customer was told."""

    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"), index=True)
    party: Mapped[dict[str, int]] = mapped_column(default=dict)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int]
    discount_minor: Mapped[int] = mapped_column(default=0)
    discount_label: Mapped[str | None] = mapped_column(String(100))
    total_minor: Mapped[int]
    deposit_minor: Mapped[int]
    valid_until: Mapped[datetime]

    departure: Mapped[Departure] = relationship()
    lead: Mapped[Lead | None] = relationship()


class Booking(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # Seat counting filters by departure and status on every hold and search.
        Index("ix_bookings_departure_status", "departure_id", "status"),
        Index("ix_bookings_org_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(32))
    # Party by tier code, e.g. {"adult": 2, "child": 1}; seats is its sum, kept as a
    # column because availability sums it over many rows.
    party: Mapped[dict[str, int]] = mapped_column(default=dict)
    seats: Mapped[int]
    # The guests' needs, from the chat or typed by staff; the manifest shows them.
    dietary_notes: Mapped[str | None] = mapped_column(Text)
    pickup_notes: Mapped[str | None] = mapped_column(Text)
    accessibility_notes: Mapped[str | None] = mapped_column(Text)
    guest_names: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    total_minor: Mapped[int]
    discount_minor: Mapped[int] = mapped_column(default=0)
    deposit_minor: Mapped[int]
    paid_minor: Mapped[int] = mapped_column(default=0)
    hold_expires_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    # On the day: on_trip at the guide's check-in, completed at check-out.
    attendance: Mapped[str | None] = mapped_column(String(16))
    # At the meeting point, from the manifest: how many of the party are here, when, who.
    checked_in_guests: Mapped[int] = mapped_column(default=0, server_default="0")
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    # The owner's approval link is good once: it carries this nonce, cleared when used.
    approval_nonce: Mapped[str | None] = mapped_column(String(32))
    # The secret its pay links carry (/pay/<reference>/<pay_token>): the reference alone is
    # guessable, and the page shows the booking.
    pay_token: Mapped[str] = mapped_column(String(32), default=new_pay_token)

    customer: Mapped[Customer] = relationship()
    departure: Mapped[Departure] = relationship()
    lead: Mapped[Lead | None] = relationship()
    checked_in_by: Mapped[StaffUser | None] = relationship()

    @property
    def balance_minor(self) -> int:
        """What the customer still owes: nothing on a booking that will not happen (a
        cancelled, fully refunded booking showed "Paid $0 · balance $147")."""
        if self.status in NOTHING_OWED_STATUSES:
            return 0
        return max(0, self.total_minor - self.paid_minor)


class WaitlistEntry(OrgScopedMixin, TimestampMixin, Base):
    """A place in line for a full departure. Its WAITLISTED booking becomes HELD when an
    offer is accepted. Order is by queued_at, so declining an offer moves to the back."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_departure_status", "departure_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("departures.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    seats: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=WaitlistStatus.WAITING)
    queued_at: Mapped[datetime]
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    offers_made: Mapped[int] = mapped_column(default=0)

    departure: Mapped[Departure] = relationship()
    customer: Mapped[Customer] = relationship()
    booking: Mapped[Booking] = relationship()
