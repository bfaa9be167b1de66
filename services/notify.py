"""Messages to people other than the current sender: sales reps, owners, ops, and
customers told about something that happened elsewhere (a waitlist spot). All go through
the outbox, in the caller's transaction, so they exist exactly when the change does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Booking,
    Channel,
    Conversation,
    Customer,
    Lead,
    Message,
    Organization,
    StaffUser,
    WaitlistEntry,
)
from services import outbox
from services.money import format_money


def local_time(org: Organization, moment: datetime) -> str:
    """E.g. "Sat 9 Jan 17:30": how replies show times, in the organization's zone."""
    local = org.local(moment)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def customer_channel(session: Session, customer: Customer) -> tuple[str, Conversation | None]:
    """The channel the customer last wrote on (WhatsApp or SMS)."""
    conv = session.scalar(
        select(Conversation)
        .where(Conversation.customer_id == customer.id)
        .order_by(Conversation.last_inbound_at.desc().nulls_last(), Conversation.id.desc())
    )
    return (conv.channel, conv) if conv else (Channel.SMS, None)


def to_customer(
    session: Session, org: Organization, customer: Customer, body: str, now: datetime, **fields: str
) -> list[Message]:
    channel, conv = customer_channel(session, customer)
    return outbox.queue(
        session,
        org,
        customer.phone,
        body,
        now,
        channel=channel,
        conversation=conv,
        kind="notification",
        template_fields=fields or None,
    )


def to_staff(
    session: Session, org: Organization, phone: str | None, body: str, now: datetime
) -> list[Message]:
    if not phone:
        return []
    channel = outbox.staff_address(session, org, phone)["channel"]
    return outbox.queue(session, org, phone, body, now, channel=channel, kind="staff")


def rep_or_owner_phone(
    session: Session, org: Organization, staff_id: int | None
) -> tuple[str | None, str | None]:
    """The rep's phone and name; the owner's phone and no name when the rep has no phone."""
    rep = session.get(StaffUser, staff_id) if staff_id else None
    if rep is not None and rep.phone:
        return rep.phone, rep.name
    return org.owner_phone, None


def lead_created(session: Session, org: Organization, lead: Lead, text: str, now: datetime) -> None:
    phone, _ = rep_or_owner_phone(session, org, lead.assigned_to_id)
    who = lead.customer.name or lead.customer.phone
    tag = " [HIGH PRIORITY]" if lead.priority == "high" else ""
    to_staff(
        session,
        org,
        phone,
        f"New lead {lead.reference}{tag} from {who} ({lead.source}): {text[:300]}",
        now,
    )


def handoff_requested(
    session: Session,
    org: Organization,
    conv: Conversation,
    staff_id: int | None,
    text: str,
    now: datetime,
) -> str | None:
    """Tells the rep (or the owner); returns the rep's name, None for "our team"."""
    phone, name = rep_or_owner_phone(session, org, staff_id)
    who = conv.customer.name or conv.customer.phone
    to_staff(session, org, phone, f"{who} ({conv.channel}) asks for a person: {text[:300]}", now)
    return name


def booking_request(
    session: Session, org: Organization, booking: Booking, what: str, text: str, now: datetime
) -> None:
    staff_id = booking.lead.assigned_to_id if booking.lead else None
    phone, _ = rep_or_owner_phone(session, org, staff_id)
    to_staff(
        session,
        org,
        phone,
        f"{what} request for {booking.reference} ({booking.departure.code}) from "
        f"{booking.customer.name or booking.customer.phone}: {text[:300]}",
        now,
    )


def waitlist_offer(
    session: Session, org: Organization, entry: WaitlistEntry, now: datetime
) -> None:
    booking = entry.booking
    dep = booking.departure
    assert entry.offer_expires_at is not None
    body = (
        f"🎉 A spot opened up on {dep.tour.name}, {local_time(org, dep.starts_at)}!\n"
        f"{entry.seats} seat{'s' if entry.seats != 1 else ''} held for you until "
        f"{local_time(org, entry.offer_expires_at)}. "
        f"Total {format_money(booking.total_minor, booking.currency)}.\n"
        f"Reply CONFIRM to book, or DECLINE to stay on the list."
    )
    to_customer(session, org, booking.customer, body, now, reference=booking.reference)
