"""Writes the audit trail. Every state change of a lead, booking or departure calls record()
inside the same transaction as the change, so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
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


# --- read by people -------------------------------------------------------------------------

# Event names in words. Anything not listed reads as its name does ("lead.quote_sent" ->
# "Lead quote sent"), so a new event is readable before it is added here.
EVENT_WORDS: dict[str, str] = {
    "approval.declined": "Declined by the owner",
    "booking.cancel_requested": "Customer asked to cancel",
    "booking.checked_in": "Checked in at the meeting point",
    "booking.confirmation_resent": "Confirmation sent again",
    "booking.held": "Seats held",
    "booking.hold_extended": "Hold kept longer",
    "booking.moved": "Moved to another departure",
    "booking.needs_updated": "Guests' needs changed",
    "booking.party_changed": "Party changed",
    "booking.reschedule_requested": "Customer asked to change the date",
    "booking.status_changed": "Booking status changed",
    "booking.waitlisted": "Put on the waitlist",
    "conversation.assigned": "Conversation assigned",
    "conversation.handoff": "Customer asked for a person",
    "conversation.reassigned_by_bot": "Conversation moved to the lead's rep",
    "conversation.resolved": "Conversation resolved",
    "conversation.status_changed": "Conversation status changed",
    "departure.booking_changed": "A booking changed",
    "departure.cancelled": "Departure cancelled",
    "departure.completed": "Tour finished",
    "departure.created": "Departure created",
    "departure.seats_held": "Seats held",
    "departure.started": "Tour started",
    "departure.status_changed": "Departure status changed",
    "departure.updated": "Departure changed",
    "guide.accepted": "Guide accepted",
    "guide.assigned": "Guide assigned directly",
    "guide.declined": "Guide declined",
    "guide.offer_escalated": "Nobody answered the guide offer: ops told",
    "guide.offered": "Trip offered to a guide",
    "guide.released": "Guide released",
    "incident.opened": "Incident reported",
    "incident.resolved": "Incident resolved",
    "incident.updated": "Incident update",
    "lead.assigned": "Lead assigned",
    "lead.created": "Lead created",
    "lead.details_added": "Customer added details",
    "lead.hold_created": "Seats held for this lead",
    "lead.quote_sent": "Quote sent",
    "lead.quoted": "Quote made",
    "lead.status_changed": "Lead status changed",
    "lead.unassigned": "No rep to assign",
    "payment.checkout_started": "Payment link opened",
    "payment.disputed": "Payment disputed",
    "payment.failed": "Payment failed",
    "payment.received": "Payment received",
    "payment.recorded": "Payment taken by staff",
    "payment.refunded": "Refunded",
    "waitlist.declined": "Waitlist offer declined",
    "waitlist.joined": "Joined the waitlist",
    "waitlist.offered": "Seats offered from the waitlist",
    "waitlist.status_changed": "Waitlist status changed",
}

# Detail keys in words; keys not listed are left out of the line (ids, internal sessions).
_DETAIL_WORDS: dict[str, str] = {
    "reason": "reason",
    "here": "guests here",
    "note": "note",
    "text": "",
    "why": "",
    "error": "error",
    "guide": "guide",
    "name": "",
    "departure": "departure",
    "booking": "booking",
    "quote": "quote",
    "incident": "incident",
    "seats": "seats",
    "spots_left": "spots left",
    "guests": "guests",
    "position": "place in line",
    "capacity": "capacity",
    "kind": "",
    "role": "as",
    "severity": "severity",
    "response_minutes": "minutes to resolve",
    "minutes": "minutes",
    "recounted": "",
    "method": "",
    "reference": "ref",
    "dietary_notes": "dietary",
    "accessibility_notes": "access",
    "pickup_notes": "pickup",
    "guest_names": "names",
}
_MONEY_KEYS = ("amount_minor", "total_minor", "total", "fee_minor", "refund_minor")


@dataclass
class TimelineLine:
    at: datetime
    what: str
    who: str
    detail: str


def event_words(event_type: str) -> str:
    if event_type in EVENT_WORDS:
        return EVENT_WORDS[event_type]
    words = event_type.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " → ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{v} {k}" for k, v in value.items() if v)
    if isinstance(value, str) and len(value) > 19 and value[4:5] == "-" and "T" in value:
        try:  # an ISO time: keep the date and the minute
            return datetime.fromisoformat(value).strftime("%d %b %H:%M")
        except ValueError:
            return value
    return str(value).replace("_", " ")


def _detail(content: dict[str, Any], currency: str, names: dict[str, str]) -> str:
    from services.money import format_money

    parts: list[str] = []
    if "from" in content and "to" in content:
        parts.append(f"{_plain(content['from'])} → {_plain(content['to'])}")
    elif "to" in content:
        parts.append(f"to {content['to'] or 'nobody'}")
    for key in _MONEY_KEYS:
        if isinstance(content.get(key), int):
            parts.append(format_money(content[key], content.get("currency") or currency))
    assignee = f"staff:{content.get('staff_id')}"
    if assignee in names:
        parts.append(f"to {names[assignee]}")
    for key, label in _DETAIL_WORDS.items():
        value = content.get(key)
        if value in (None, "", [], {}) or (key == "name" and "staff_id" in content):
            continue
        text = _plain(value)
        if key in ("text", "note", "reason", "why"):
            text = f"“{text}”"
        parts.append(f"{label} {text}".strip() if label else text)
    return " · ".join(parts)


def _names(session: Session, organization_id: int, actors: set[str]) -> dict[str, str]:
    """'staff:4' -> the staff member's name, 'customer:+1…' -> the customer's, 'guide:2' ->
    the guide's; one query per kind, only this organization's people."""
    from models import Customer, Guide, StaffUser

    ids: dict[str, set[str]] = {"staff": set(), "customer": set(), "guide": set()}
    for actor in actors:
        kind, _, key = actor.partition(":")
        if kind in ids and key:
            ids[kind].add(key)
    names: dict[str, str] = {}
    staff_ids = [int(k) for k in ids["staff"] if k.isdigit()]
    if staff_ids:
        for sid, name in session.execute(
            select(StaffUser.id, StaffUser.name).where(
                StaffUser.id.in_(staff_ids), StaffUser.organization_id == organization_id
            )
        ):
            names[f"staff:{sid}"] = name
    guide_ids = [int(k) for k in ids["guide"] if k.isdigit()]
    if guide_ids:
        for gid, name in session.execute(
            select(Guide.id, Guide.name).where(
                Guide.id.in_(guide_ids), Guide.organization_id == organization_id
            )
        ):
            names[f"guide:{gid}"] = f"{name} (guide)"
    if ids["customer"]:
        for phone, name in session.execute(
            select(Customer.phone, Customer.name).where(
                Customer.phone.in_(ids["customer"]), Customer.organization_id == organization_id
            )
        ):
            names[f"customer:{phone}"] = f"{name} (customer)" if name else f"customer {phone}"
    return names


_SOURCES = {
    "system": "the system",
    "owner": "the owner (approval link)",
    "stripe": "Stripe",
    "fake": "the test checkout",
    "catalog": "the catalog file",
    "bot": "the bot",
}


def readable(
    session: Session, organization_id: int, events: list[TimelineEvent], currency: str
) -> list[TimelineLine]:
    """The events as lines people read: what happened in words, who did it by name, and
    the details that matter (never raw JSON)."""
    actors = {e.actor for e in events}
    for e in events:
        if isinstance(e.content, dict) and "staff_id" in e.content:
            actors.add(f"staff:{e.content['staff_id']}")
    names = _names(session, organization_id, actors)
    lines = []
    for e in events:
        actor = e.actor or "system"
        kind, _, key = actor.partition(":")
        if actor in names:
            who = names[actor]
        elif kind == "customer":
            who = f"customer {key}"
        elif kind == "staff":
            who = "a staff member"
        elif kind == "guide":
            who = "a guide"
        else:
            who = _SOURCES.get(actor) or _SOURCES.get(e.source or "", actor)
        content = e.content if isinstance(e.content, dict) else {}
        detail = _detail(content, currency, names)
        lines.append(TimelineLine(e.created_at, event_words(e.event_type), who, detail))
    return lines
