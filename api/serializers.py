"""Model -> JSON. Times are given in UTC and in the organization's local time; money in
integer minor units with its currency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import (
    Booking,
    Conversation,
    Departure,
    Incident,
    Lead,
    Message,
    Organization,
    PayrollEntry,
    TimelineEvent,
    WaitlistEntry,
)
from services.inventory import Occupancy


def _times(org: Organization, moment: datetime | None) -> tuple[str | None, str | None]:
    if moment is None:
        return None, None
    return moment.isoformat().replace("+00:00", "Z"), org.local(moment).isoformat()


def departure(
    org: Organization, dep: Departure, occ: Occupancy, waitlist_length: int
) -> dict[str, Any]:
    starts, starts_local = _times(org, dep.starts_at)
    ends, ends_local = _times(org, dep.ends_at)
    return {
        "code": dep.code,
        "tour": {"slug": dep.tour.slug, "name": dep.tour.name},
        "starts_at": starts,
        "starts_at_local": starts_local,
        "ends_at": ends,
        "ends_at_local": ends_local,
        "status": dep.status,
        "capacity": occ.capacity,
        "booked": occ.booked,
        "held": occ.held,
        "offered": occ.offered,
        "spots_left": occ.spots_left,
        "waitlist_length": waitlist_length,
        "guide": {"name": dep.guide.name, "phone": dep.guide.phone} if dep.guide else None,
        "checked_in_at": _times(org, dep.checked_in_at)[0],
        "checked_out_at": _times(org, dep.checked_out_at)[0],
    }


def booking(org: Organization, b: Booking) -> dict[str, Any]:
    hold, hold_local = _times(org, b.hold_expires_at)
    created, _ = _times(org, b.created_at)
    return {
        "reference": b.reference,
        "status": b.status,
        "status_reason": b.status_reason,
        "departure": b.departure.code,
        "tour": b.departure.tour.slug,
        "customer": {"phone": b.customer.phone, "name": b.customer.name},
        "party": b.party,
        "seats": b.seats,
        "currency": b.currency,
        "lines": b.lines,
        "total_minor": b.total_minor,
        "discount_minor": b.discount_minor,
        "deposit_minor": b.deposit_minor,
        "paid_minor": b.paid_minor,
        "balance_minor": b.balance_minor,
        "hold_expires_at": hold,
        "hold_expires_at_local": hold_local,
        "source": b.source,
        "lead": b.lead.reference if b.lead else None,
        "created_at": created,
    }


def lead(org: Organization, ld: Lead) -> dict[str, Any]:
    created, _ = _times(org, ld.created_at)
    return {
        "reference": ld.reference,
        "status": ld.status,
        "source": ld.source,
        "priority": ld.priority,
        "reason": ld.reason,
        "customer": {"phone": ld.customer.phone, "name": ld.customer.name},
        "assigned_to": {"name": ld.assigned_to.name, "email": ld.assigned_to.email}
        if ld.assigned_to
        else None,
        "tour": ld.tour.slug if ld.tour else None,
        "departure": ld.departure.code if ld.departure else None,
        "party": ld.party,
        "preferred_date": ld.preferred_date.isoformat() if ld.preferred_date else None,
        "preferred_month": ld.preferred_month,
        "notes": ld.notes,
        "context": ld.context,
        "created_at": created,
    }


def waitlist_entry(org: Organization, entry: WaitlistEntry, position: int) -> dict[str, Any]:
    expires, expires_local = _times(org, entry.offer_expires_at)
    return {
        "position": position,
        "booking": entry.booking.reference,
        "customer": {"phone": entry.customer.phone, "name": entry.customer.name},
        "seats": entry.seats,
        "status": entry.status,
        "queued_at": _times(org, entry.queued_at)[0],
        "offer_expires_at": expires,
        "offer_expires_at_local": expires_local,
    }


def timeline_event(org: Organization, ev: TimelineEvent) -> dict[str, Any]:
    at, at_local = _times(org, ev.created_at)
    return {
        "object_type": ev.object_type,
        "object": ev.object_ref,
        "event": ev.event_type,
        "actor": ev.actor,
        "source": ev.source,
        "content": ev.content,
        "at": at,
        "at_local": at_local,
    }


def message(org: Organization, m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "direction": m.direction,
        "channel": m.channel,
        "from": m.from_phone,
        "to": m.to_phone,
        "body": m.body,
        "kind": m.kind,
        "status": m.status,
        "error_code": m.error_code,
        "error_message": m.error_message,
        "provider_sid": m.provider_sid,
        "template_sid": m.template_sid,
        "attempts": m.attempts,
        "at": _times(org, m.created_at)[0],
    }


def conversation(org: Organization, c: Conversation, messages: list[Message]) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer": {
            "phone": c.customer.phone,
            "name": c.customer.name,
            "opted_out": c.customer.opted_out,
        },
        "channel": c.channel,
        "state": c.state,
        "slots": c.slots,
        "status": c.status,
        "handoff": c.handoff,
        "unread_count": c.unread_count,
        "lead": c.lead.reference if c.lead else None,
        "last_inbound_at": _times(org, c.last_inbound_at)[0],
        "messages": [message(org, m) for m in messages],
    }


def incident(org: Organization, inc: Incident) -> dict[str, Any]:
    return {
        "number": inc.number,
        "departure": inc.departure.code,
        "guide": inc.guide.name if inc.guide else None,
        "severity": inc.severity,
        "status": inc.status,
        "text": inc.text,
        "opened_at": _times(org, inc.opened_at)[0],
        "resolved_at": _times(org, inc.resolved_at)[0],
        "response_minutes": inc.response_minutes,
        "updates": [
            {
                "author": u.author,
                "text": u.text,
                "resolves": u.resolves,
                "at": _times(org, u.created_at)[0],
            }
            for u in inc.updates
        ],
    }


def payroll_entry(org: Organization, entry: PayrollEntry) -> dict[str, Any]:
    return {
        "guide": {"name": entry.guide.name, "phone": entry.guide.phone},
        "departure": entry.departure.code,
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "note": entry.note,
        "at": _times(org, entry.created_at)[0],
    }
