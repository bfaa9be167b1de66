"""What may be checked after a turn (or at the end of a dialogue), each a function of the
turn's reply and the database. Text is compared without case, with curly quotes made
straight and runs of spaces made one, so a check is about words, not typography.

Reply checks:
    says: [word, ...]        every one in the reply
    says_any: [word, ...]    at least one
    never_says: [word, ...]  none of them
    matches: regex           (case-insensitive, . matches newlines)
    no_match: regex
Database checks (the dialogue's customer only):
    booking: {tour, status, party, seats, date, time, paid, ref, count}   such bookings exist
             (count: exactly that many; status may be a list, or "active": held, pending
             approval, payment pending or confirmed)
    no_booking: {...}        no booking matches
    waitlist: {tour, date, time, seats}        in line (waiting or offered)
    lead: {tour, party, count}
    task: {has: [...], any: [...]} or true   a task for staff about this customer
    handoff: true|false      a person has (not) taken the conversation over
    staff_told: {who: rep|ops|owner|staff, has: [...], any: [...], lacks: [...],
                 matches: regex, refs: true}
             one message to staff, sent during this turn (end: during the dialogue), that
             says all of has, one of any, none of lacks, matches the regex, and (refs) one
             of the customer's booking or lead references
    staff_not_told: true     no message to staff
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import models
from models import (
    ACTIVE_WAITLIST_STATUSES,
    Booking,
    BookingStatus,
    Conversation,
    Customer,
    Lead,
    Message,
    Organization,
    StaffUser,
    WaitlistEntry,
)

ACTIVE = (
    BookingStatus.HELD,
    BookingStatus.PENDING_APPROVAL,
    BookingStatus.PAYMENT_PENDING,
    BookingStatus.CONFIRMED,
)


@dataclass
class Context:
    session: Session
    org: Organization
    phone: str
    reply: str  # this turn's replies (at the end: every reply of the dialogue)
    since_message_id: int  # staff messages after this one count
    refs: list[str] = field(default_factory=list)  # the given bookings' references

    def fill(self, text: str) -> str:
        return fill(text, self.refs)

    def customer(self) -> Customer | None:
        return self.session.scalar(
            select(Customer).where(
                Customer.organization_id == self.org.id, Customer.phone == self.phone
            )
        )


Result = tuple[bool, str]


def fill(text: str, refs: list[str]) -> str:
    """{ref} (and {ref_lower}, as people type it) is the first given booking's reference."""
    ref = refs[0] if refs else "BK-NONE"
    return text.replace("{ref_lower}", ref.lower()).replace("{ref}", ref)


def normal(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    return re.sub(r"\s+", " ", text.replace("\u201d", '"')).strip().lower()


def _words(ctx: Context, arg: Any) -> list[str]:
    items = arg if isinstance(arg, list) else [arg]
    return [normal(ctx.fill(str(w))) for w in items]


def _excerpt(text: str, size: int = 140) -> str:
    one_line = " ".join(text.split())
    return repr(one_line[:size] + ("…" if len(one_line) > size else ""))


def _silent(ctx: Context) -> Result | None:
    """A check on what the bot said fails when it said nothing at all."""
    return None if ctx.reply.strip() else (False, "no reply at all")


def says(ctx: Context, arg: Any) -> Result:
    if silent := _silent(ctx):
        return silent
    reply = normal(ctx.reply)
    missing = [w for w in _words(ctx, arg) if w not in reply]
    return not missing, f"reply lacks {missing}: {_excerpt(ctx.reply)}"


def says_any(ctx: Context, arg: Any) -> Result:
    if silent := _silent(ctx):
        return silent
    reply = normal(ctx.reply)
    words = _words(ctx, arg)
    return any(w in reply for w in words), f"reply has none of {words}: {_excerpt(ctx.reply)}"


def never_says(ctx: Context, arg: Any) -> Result:
    if silent := _silent(ctx):
        return silent
    reply = normal(ctx.reply)
    found = [w for w in _words(ctx, arg) if w in reply]
    return not found, f"reply says {found}: {_excerpt(ctx.reply)}"


def matches(ctx: Context, arg: Any) -> Result:
    if silent := _silent(ctx):
        return silent
    pattern = ctx.fill(str(arg))
    ok = re.search(pattern, normal(ctx.reply), re.IGNORECASE | re.DOTALL) is not None
    return ok, f"reply does not match /{pattern}/: {_excerpt(ctx.reply)}"


def no_match(ctx: Context, arg: Any) -> Result:
    if silent := _silent(ctx):
        return silent
    pattern = ctx.fill(str(arg))
    found = re.search(pattern, normal(ctx.reply), re.IGNORECASE | re.DOTALL)
    return found is None, f"reply matches /{pattern}/ ({found and found.group(0)!r})"


def _party(raw: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in raw.items() if int(v)}


def _booking_matches(ctx: Context, b: Booking, spec: dict[str, Any]) -> bool:
    tz = ZoneInfo(ctx.org.timezone)
    if "tour" in spec and b.departure.tour.slug != spec["tour"]:
        return False
    if "status" in spec:
        wanted = spec["status"] if isinstance(spec["status"], list) else [spec["status"]]
        statuses = {s for w in wanted for s in (ACTIVE if w == "active" else (w,))}
        if b.status not in statuses:
            return False
    if "party" in spec and _party(b.party) != _party(spec["party"]):
        return False
    if "seats" in spec and b.seats != int(spec["seats"]):
        return False
    local = b.departure.starts_at.astimezone(tz)
    if "date" in spec and local.date() != date.fromisoformat(str(spec["date"])):
        return False
    if "time" in spec and local.time() != time.fromisoformat(str(spec["time"])):
        return False
    if "paid" in spec and (b.paid_minor > 0) != bool(spec["paid"]):
        return False
    return not ("ref" in spec and b.reference != ctx.fill(str(spec["ref"])))


def _bookings(ctx: Context, spec: dict[str, Any]) -> list[Booking]:
    customer = ctx.customer()
    if customer is None:
        return []
    rows = ctx.session.scalars(
        select(Booking).where(Booking.customer_id == customer.id).order_by(Booking.id)
    )
    return [b for b in rows if _booking_matches(ctx, b, spec or {})]


def _describe_bookings(ctx: Context) -> str:
    every = _bookings(ctx, {})
    if not every:
        return "the customer has no bookings"
    tz = ZoneInfo(ctx.org.timezone)
    return "the customer's bookings: " + "; ".join(
        f"{b.reference} {b.departure.tour.slug} "
        f"{b.departure.starts_at.astimezone(tz):%Y-%m-%d %H:%M} {b.status} {_party(b.party)}"
        for b in every
    )


def booking(ctx: Context, arg: Any) -> Result:
    spec = dict(arg or {})
    count = spec.pop("count", None)
    found = _bookings(ctx, spec)
    ok = len(found) == int(count) if count is not None else bool(found)
    want = f"{count} " if count is not None else ""
    return ok, f"expected {want}booking {spec}; {_describe_bookings(ctx)}"


def no_booking(ctx: Context, arg: Any) -> Result:
    spec = dict(arg or {})
    found = _bookings(ctx, spec)
    return not found, f"expected no booking {spec}; {_describe_bookings(ctx)}"


def waitlist(ctx: Context, arg: Any) -> Result:
    spec = dict(arg or {})
    customer = ctx.customer()
    entries = (
        list(
            ctx.session.scalars(
                select(WaitlistEntry).where(
                    WaitlistEntry.customer_id == customer.id,
                    WaitlistEntry.status.in_(ACTIVE_WAITLIST_STATUSES),
                )
            )
        )
        if customer
        else []
    )
    seats = spec.pop("seats", None)
    ok = any(
        _booking_matches(ctx, e.booking, spec) and (seats is None or e.seats == int(seats))
        for e in entries
    )
    return ok, f"expected a place in line {arg}; {len(entries)} active waitlist entries"


def lead(ctx: Context, arg: Any) -> Result:
    spec = dict(arg or {})
    customer = ctx.customer()
    leads = (
        list(ctx.session.scalars(select(Lead).where(Lead.customer_id == customer.id)))
        if customer
        else []
    )
    count = spec.pop("count", None)
    found = [
        lead
        for lead in leads
        if ("tour" not in spec or (lead.tour is not None and lead.tour.slug == spec["tour"]))
        and ("party" not in spec or _party(lead.party) == _party(spec["party"]))
        and ("priority" not in spec or lead.priority == spec["priority"])
    ]
    ok = len(found) == int(count) if count is not None else bool(found)
    seen = [(lead.reference, lead.tour and lead.tour.slug, lead.party) for lead in leads]
    return ok, f"expected lead {arg}; the customer's leads: {seen}"


def _row_text(row: Any) -> str:
    mapper = inspect(type(row))
    parts = [
        str(getattr(row, c.key))
        for c in mapper.column_attrs
        if isinstance(getattr(row, c.key), (str, dict, list))
    ]
    return normal(" ".join(parts))


def task(ctx: Context, arg: Any) -> Result:
    """Tasks are a model the knowledge work adds (models.Task); whatever ties a task to the
    customer (customer_id, lead_id or booking_id) is followed."""
    task_model = getattr(models, "Task", None)
    if task_model is None:
        return False, "there is no Task model yet (issue 17: follow-ups go to staff as tasks)"
    customer = ctx.customer()
    if customer is None:
        return False, "the customer was never recorded"
    columns = {c.key for c in inspect(task_model).column_attrs}
    lead_ids = [
        i for i in ctx.session.scalars(select(Lead.id).where(Lead.customer_id == customer.id))
    ]
    booking_ids = [
        i for i in ctx.session.scalars(select(Booking.id).where(Booking.customer_id == customer.id))
    ]
    rows = [
        row
        for row in ctx.session.scalars(
            select(task_model).where(task_model.organization_id == ctx.org.id)
        )
        if ("customer_id" in columns and row.customer_id == customer.id)
        or ("lead_id" in columns and row.lead_id in lead_ids)
        or ("booking_id" in columns and row.booking_id in booking_ids)
    ]
    spec = arg if isinstance(arg, dict) else {}
    has = _words(ctx, spec["has"]) if "has" in spec else []
    any_of = _words(ctx, spec["any"]) if "any" in spec else []
    for row in rows:
        text = _row_text(row)
        if all(w in text for w in has) and (not any_of or any(w in text for w in any_of)):
            return True, ""
    texts = [_excerpt(_row_text(r), 80) for r in rows]
    return False, f"no task for the customer with {spec or 'anything'}; tasks: {texts}"


def handoff(ctx: Context, arg: Any) -> Result:
    customer = ctx.customer()
    flags = (
        list(
            ctx.session.scalars(
                select(Conversation.handoff).where(Conversation.customer_id == customer.id)
            )
        )
        if customer
        else []
    )
    ok = any(flags) == bool(arg)
    return ok, f"expected handoff {bool(arg)}, conversation handoff flags: {flags}"


def _staff_phones(ctx: Context, who: str) -> set[str]:
    staff = list(
        ctx.session.scalars(
            select(StaffUser).where(StaffUser.organization_id == ctx.org.id, StaffUser.active)
        )
    )
    by_role = {
        "rep": {s.phone for s in staff if s.role == "sales"},
        "ops": {s.phone for s in staff if s.role == "ops"} | set(ctx.org.ops_phones or []),
        "owner": {s.phone for s in staff if s.role == "owner"} | {ctx.org.owner_phone},
    }
    phones = by_role.get(who) if who != "staff" else set().union(*by_role.values())
    if phones is None:
        raise ValueError(f"staff_told who: {who!r} is not rep, ops, owner or staff")
    return {p for p in phones if p}


def _staff_messages(ctx: Context, who: str) -> list[Message]:
    phones = _staff_phones(ctx, who)
    return [
        m
        for m in ctx.session.scalars(
            select(Message)
            .where(
                Message.organization_id == ctx.org.id,
                Message.direction == "outbound",
                Message.id > ctx.since_message_id,
            )
            .order_by(Message.id)
        )
        if m.to_phone in phones
    ]


def _customer_refs(ctx: Context) -> list[str]:
    customer = ctx.customer()
    if customer is None:
        return []
    refs = list(
        ctx.session.scalars(select(Booking.reference).where(Booking.customer_id == customer.id))
    )
    return refs + list(
        ctx.session.scalars(select(Lead.reference).where(Lead.customer_id == customer.id))
    )


def staff_told(ctx: Context, arg: Any) -> Result:
    spec = arg if isinstance(arg, dict) else {}
    who = spec.get("who", "staff")
    sent = _staff_messages(ctx, who)
    has = _words(ctx, spec["has"]) if "has" in spec else []
    any_of = _words(ctx, spec["any"]) if "any" in spec else []
    lacks = _words(ctx, spec["lacks"]) if "lacks" in spec else []
    refs = [normal(r) for r in _customer_refs(ctx)] if spec.get("refs") else []
    pattern = ctx.fill(str(spec["matches"])) if "matches" in spec else None
    for m in sent:
        body = normal(m.body)
        if (
            all(w in body for w in has)
            and (pattern is None or re.search(pattern, body, re.IGNORECASE | re.DOTALL))
            and (not any_of or any(w in body for w in any_of))
            and not any(w in body for w in lacks)
            and (not spec.get("refs") or any(r in body for r in refs))
        ):
            return True, ""
    if not sent:
        return False, f"no message to {who}"
    return False, f"no message to {who} with {spec}; sent: {[_excerpt(m.body, 100) for m in sent]}"


def staff_not_told(ctx: Context, arg: Any) -> Result:
    sent = _staff_messages(ctx, "staff")
    return not sent, f"staff were messaged: {[_excerpt(m.body, 80) for m in sent]}"


KINDS: dict[str, Callable[[Context, Any], Result]] = {
    "says": says,
    "says_any": says_any,
    "never_says": never_says,
    "matches": matches,
    "no_match": no_match,
    "booking": booking,
    "no_booking": no_booking,
    "waitlist": waitlist,
    "lead": lead,
    "task": task,
    "handoff": handoff,
    "staff_told": staff_told,
    "staff_not_told": staff_not_told,
}
