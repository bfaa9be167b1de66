"""Money received and returned: one row per checkout, per refund, and per provider event
(the event id is unique, so a replayed webhook is recognised)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, OrgScopedMixin, TimestampMixin
from models.booking import Booking


class Payment(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # deposit / full / balance
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # pending -> paid | failed; paid -> refunded (refunded_minor says how much)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    provider: Mapped[str] = mapped_column(String(16))  # stripe / fake / manual
    # Money staff took themselves (provider "manual"): how, their receipt or transfer
    # reference, and who recorded it.
    method: Mapped[str | None] = mapped_column(String(16))  # card_phone / cash / bank_transfer
    external_reference: Mapped[str | None] = mapped_column(String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The open checkout's address and end: a second click on Pay goes back to it.
    checkout_url: Mapped[str | None] = mapped_column(Text)
    checkout_expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    refunded_minor: Mapped[int] = mapped_column(default=0)
    disputed: Mapped[bool] = mapped_column(default=False)
    failure_reason: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship()


class Refund(OrgScopedMixin, Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_minor: Mapped[int]
    reason: Mapped[str] = mapped_column(String(64))
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]

    payment: Mapped[Payment] = relationship()


class ProviderEvent(Base):
    __tablename__ = "provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]


class ReminderSent(Base):
    """One row per reminder sent (booking, kind, key): the unique key makes each reminder go
    out once, however often or concurrently the reminder job runs."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("booking_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # pre_departure / balance_due / hold_expiring
    key: Mapped[str] = mapped_column(String(32))  # e.g. "7d" for the 7-day reminder
    sent_at: Mapped[datetime]
