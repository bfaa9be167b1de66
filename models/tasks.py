"""What a person at the tour company must do for a customer: a question the bot could not
answer, a promised follow-up (a voucher, an invoice, a group rate), a complaint, a file
sent in chat. Made by the bot (services/tasks.py), done by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, OrgScopedMixin, TimestampMixin
from models.booking import Booking
from models.crm import Customer, Lead
from models.enums import TaskPriority, TaskStatus
from models.messaging import Conversation
from models.organization import StaffUser


class Task(OrgScopedMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        # A person's open tasks, and the organization's open ones, newest first.
        Index("ix_tasks_org_status", "organization_id", "status", "created_at"),
        Index("ix_tasks_customer_status", "customer_id", "status"),
    )
    organization_index = False

    id: Mapped[int] = mapped_column(primary_key=True)
    # question / follow_up / complaint / media / handoff
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=TaskStatus.OPEN)
    priority: Mapped[str] = mapped_column(String(8), default=TaskPriority.NORMAL)
    # What to do, in a line, for staff (English): "Answer: can we bring our dog?"
    title: Mapped[str] = mapped_column(String(300))
    # The context a person needs without opening the conversation: who, which booking or
    # enquiry, the customer's last words (quoted).
    details: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    # A task to hand back money taken by hand: the refund it hands back (each refund has
    # its own; those recorded before these tasks existed have none).
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    customer: Mapped[Customer] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    lead: Mapped[Lead | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    assigned_to: Mapped[StaffUser | None] = relationship(foreign_keys=[assigned_to_id])
    done_by: Mapped[StaffUser | None] = relationship(foreign_keys=[done_by_id])

    @property
    def number(self) -> str:
        return f"TASK-{self.id}"
