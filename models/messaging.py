"""Conversations with customers and the communications log (every message in and out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, OrgScopedMixin, TimestampMixin
from models.crm import Customer, Lead
from models.organization import StaffUser


class Conversation(OrgScopedMixin, TimestampMixin, Base):
    """One per organization, customer and channel. The bot's state and the slots it has
    collected live here, so any web process continues the same conversation."""

    __tablename__ = "conversations"
    __table_args__ = (
        # Led by the customer: the webhook finds the conversation through its customer
        # (a customer belongs to one organization, so this is unique per organization too).
        UniqueConstraint("customer_id", "channel"),
        # The inbox lists an organization's conversations, newest first.
        Index("ix_conversations_org_last_message", "organization_id", "last_message_at"),
        # The owner's report: conversations with a customer message in a period.
        Index("ix_conversations_org_last_inbound", "organization_id", "last_inbound_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32), default="idle")
    slots: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    handoff: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / pending / resolved
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    unread_count: Mapped[int] = mapped_column(default=0)
    last_inbound_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
    lead: Mapped[Lead | None] = relationship()


class Message(OrgScopedMixin, Base):
    """The communications log. An outbound row exists before anything is sent, so a crash
    or an outage never loses a message: the sweep sends whatever is still due."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_delivery", "status", "next_attempt_at"),
        Index("ix_messages_org_to", "organization_id", "to_phone", "created_at"),
        # The owner's report by period, and the staff replies in one (bench.admin, a year).
        Index("ix_messages_org_created", "organization_id", "created_at"),
        Index(
            "ix_messages_org_agent",
            "organization_id",
            "created_at",
            postgresql_where=text("kind = 'agent'"),
            sqlite_where=text("kind = 'agent'"),
        ),
        # What each booking's messaging counts of the conversation (services/message_costs).
        Index(
            "ix_messages_billed_talk",
            "organization_id",
            "to_phone",
            "created_at",
            postgresql_include=["status", "category", "channel", "country", "units"],
            postgresql_where=text("direction = 'outbound' AND booking_id IS NULL"),
            sqlite_where=text("direction = 'outbound' AND booking_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    direction: Mapped[str] = mapped_column(String(8))  # inbound / outbound
    channel: Mapped[str] = mapped_column(String(16))
    from_phone: Mapped[str] = mapped_column(String(20))
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[str]] = mapped_column(default=list)
    # inbound: received. outbound: queued, retrying, sending, sent, delivered, read,
    # undelivered, failed, needs_template, suppressed (opted out), reply (in TwiML).
    status: Mapped[str] = mapped_column(String(16))
    # reply (bot, in TwiML) / notification / staff (to a staff phone) / agent (a rep's reply)
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    template_sid: Mapped[str | None] = mapped_column(String(64))
    template_variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What WhatsApp or the carrier bills it as (outbound): service (a reply inside the
    # 24-hour window), utility (a template), marketing, or sms (services/message_costs.py).
    category: Mapped[str | None] = mapped_column(String(16))
    # What it is billed on (outbound), recorded when written: units (SMS segments, else 1)
    # and the recipient's country (ISO code; None when the number says nothing). The price
    # is the settings' for the category and country now (services/message_costs.py).
    units: Mapped[int | None]
    country: Mapped[str | None] = mapped_column(String(2))
    # The booking the message is about (a reminder, a payment, its cancellation...).
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    # Twilio's persistent_action: a WhatsApp location pin, ["geo:LAT,LON|LABEL"].
    persistent_action: Mapped[list[str] | None] = mapped_column()
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    conversation: Mapped[Conversation | None] = relationship()


class ConversationNote(OrgScopedMixin, Base):
    """A private note staff leave on a conversation; never sent to the customer."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    author: Mapped[StaffUser | None] = relationship()


class PersonRequest(OrgScopedMixin, Base):
    """One spell of a customer waiting for a person: opened when the conversation goes
    pending, closed when it leaves pending (answered_by: the staff member who did it; None
    when the customer went back to the bot). Staff first-response times are read from here."""

    __tablename__ = "person_requests"
    __table_args__ = (Index("ix_person_requests_org_requested", "organization_id", "requested_at"),)
    organization_index = False

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    requested_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    answered_by: Mapped[StaffUser | None] = relationship()


class WhatsAppContent(OrgScopedMixin, TimestampMixin, Base):
    """An interactive WhatsApp message made through Twilio's Content API (a list picker,
    quick replies, pay buttons), one per organization, kind and language; the per-message
    parts are its variables. `definition` is what was sent to create it: a changed wording
    or address makes `flask whatsapp sync` create a new one."""

    __tablename__ = "whatsapp_contents"
    __table_args__ = (UniqueConstraint("organization_id", "kind", "language"),)
    organization_index = False  # the unique constraint leads with it

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(12))
    content_sid: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A template (services/whatsapp_templates.py): WhatsApp's review as Twilio reports it
    # (received, pending, approved, rejected, paused, disabled) and a rejection's reason.
    # None: never submitted (session content needs no approval).
    approval_status: Mapped[str | None] = mapped_column(String(16))
    approval_reason: Mapped[str | None] = mapped_column(Text)
    # When Twilio was last asked about the review (the sweep asks again after a while).
    approval_checked_at: Mapped[datetime | None]


class PendingInbound(OrgScopedMixin, Base):
    """An inbound message stored by the webhook and not yet answered: a worker answers it
    (bot/inbound.py) and deletes this row in the same transaction. What the state machine
    reads of the message besides its log row (a tap's payload, the sender's profile name,
    the files' types...) is kept here, so the sweep can hand it to a worker again if its
    job was lost."""

    __tablename__ = "pending_inbound"
    organization_index = False  # a few rows at a time, read by message id

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    inbound: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)  # answers that failed (a bug, an outage)
    created_at: Mapped[datetime]


class MessageMedia(OrgScopedMixin, Base):
    """A file a customer sent (a photo, a voice note, a document), fetched from Twilio by a
    job (services/media.py) and kept here: pending, stored, refused (a type or size not
    kept) or failed (could not be fetched; not tried again)."""

    __tablename__ = "message_media"
    __table_args__ = (Index("ix_message_media_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    source_url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    size: Mapped[int | None]
    # The file itself; loaded only when served (deferred), never with the thread.
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
