"""Crisis tools: cancel several departures in one action (a stormy day, a tour over a range
of dates), watch the messages go out, and call whoever could not be reached, ticking them
off as they are called. Each departure is cancelled by cancellations.cancel_departure; the
departures of one action share a batch."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models import (
    CANCELLABLE_STATUSES,
    NOT_STARTED_DEPARTURE_STATUSES,
    Booking,
    Customer,
    Departure,
    DepartureCancellation,
    Message,
    MessageStatus,
    Organization,
    Task,
    TaskStatus,
)
from services import cancellations
from services.availability import local_day_bounds
from services.errors import NotFound
from services.payments import StripeAccount

MAX_DEPARTURES = 200
MAX_DAYS = 62

DELIVERED = (MessageStatus.DELIVERED, MessageStatus.READ)
ON_THE_WAY = (MessageStatus.ACCEPTED, MessageStatus.SENDING, MessageStatus.SENT)
WAITING = (MessageStatus.QUEUED, MessageStatus.RETRYING)
# Nobody was reached by these: the person goes on the call list.
NOT_REACHED = {
    MessageStatus.FAILED: "delivery failed",
    MessageStatus.UNDELIVERED: "not delivered",
    MessageStatus.NEEDS_TEMPLATE: "WhatsApp window closed and no template",
    MessageStatus.SUPPRESSED: "opted out",
}


class CrisisError(cancellations.CancellationError):
    pass


@dataclass
class AtRisk:
    """A departure that can still be cancelled, with what cancelling it would touch."""

    departure: Departure
    bookings: int
    people: int
    paid_minor: int


def departures_between(
    session: Session, org: Organization, first: date, last: date, tour_id: int | None = None
) -> list[AtRisk]:
    """Departures not yet started between two local days (of one tour, if given)."""
    if last < first or (last - first).days > MAX_DAYS:
        raise CrisisError(f"Choose at most {MAX_DAYS} days, ending after they start.")
    start, end = local_day_bounds(org, first, last)
    stmt = (
        select(Departure)
        .options(joinedload(Departure.tour), joinedload(Departure.guide))
        .where(
            Departure.organization_id == org.id,
            Departure.status.in_(NOT_STARTED_DEPARTURE_STATUSES),
            Departure.starts_at >= start,
            Departure.starts_at < end,
        )
        .order_by(Departure.starts_at, Departure.code)
        .limit(MAX_DEPARTURES)
    )
    if tour_id is not None:
        stmt = stmt.where(Departure.tour_id == tour_id)
    departures = list(session.scalars(stmt))
    counts = _counts(session, [d.id for d in departures])
    return [AtRisk(d, *counts.get(d.id, (0, 0, 0))) for d in departures]


def _counts(session: Session, departure_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    if not departure_ids:
        return {}
    rows = session.execute(
        select(
            Booking.departure_id,
            func.count(),
            func.coalesce(func.sum(Booking.seats), 0),
            func.coalesce(func.sum(Booking.paid_minor), 0),
        )
        .where(Booking.departure_id.in_(departure_ids), Booking.status.in_(CANCELLABLE_STATUSES))
        .group_by(Booking.departure_id)
    )
    return {dep: (int(n), int(people), int(paid)) for dep, n, people, paid in rows}


def cancellable_bookings(session: Session, departure: Departure) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .options(joinedload(Booking.customer))
            .where(Booking.departure_id == departure.id, Booking.status.in_(CANCELLABLE_STATUSES))
            .order_by(Booking.id)
        )
    )


def chosen(session: Session, org: Organization, codes: list[str]) -> list[AtRisk]:
    """The departures staff ticked, by code, each still cancellable."""
    wanted = sorted({c.strip().upper() for c in codes if c.strip()})
    if not wanted:
        raise CrisisError("Tick at least one departure to cancel.")
    if len(wanted) > MAX_DEPARTURES:
        raise CrisisError(f"At most {MAX_DEPARTURES} departures at once.")
    departures = list(
        session.scalars(
            select(Departure)
            .options(joinedload(Departure.tour), joinedload(Departure.guide))
            .where(Departure.organization_id == org.id, Departure.code.in_(wanted))
            .order_by(Departure.starts_at, Departure.code)
        )
    )
    missing = set(wanted) - {d.code for d in departures}
    if missing:
        raise NotFound(f"No departure {', '.join(sorted(missing))}.")
    gone = [d.code for d in departures if d.status not in NOT_STARTED_DEPARTURE_STATUSES]
    if gone:
        raise CrisisError(f"Already cancelled, started or finished: {', '.join(gone)}.")
    counts = _counts(session, [d.id for d in departures])
    return [AtRisk(d, *counts.get(d.id, (0, 0, 0))) for d in departures]


def cancel_many(
    session: Session,
    org: Organization,
    codes: list[str],
    reason: str,
    now: datetime,
    *,
    stripe: StripeAccount,
    actor: str,
    refund: str = "full",
    own_message: str | None = None,
) -> str:
    """Cancels every chosen departure in one transaction (all or none); returns the batch
    that names this action for its progress page."""
    reason = reason.strip()
    if not reason:
        raise CrisisError("Say why the departures are cancelled; customers are told.")
    batch = "CX" + secrets.token_hex(5).upper()
    for row in chosen(session, org, codes):
        cancellations.cancel_departure(
            session,
            org,
            row.departure,
            reason,
            now,
            stripe=stripe,
            actor=actor,
            refund=refund,
            own_message=(own_message or "").strip() or None,
            batch=batch,
        )
    session.flush()
    return batch


@dataclass
class CallRow:
    code: str
    booking: str
    name: str
    phone: str
    why: str
    called_by: str | None = None
    called_at: str | None = None


@dataclass
class Progress:
    records: list[DepartureCancellation]
    reason: str
    bookings: int = 0
    people: int = 0
    refunded_minor: int = 0
    delivered: int = 0
    on_the_way: int = 0
    waiting: int = 0
    not_reached: int = 0
    # Refunds of money taken by hand (card by phone, cash...): recorded, each with an open
    # task for a person to hand it back (services/refunds.py).
    to_hand_back: int = 0
    call_list: list[CallRow] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.delivered + self.on_the_way + self.waiting + self.not_reached

    @property
    def settled_percent(self) -> int:
        """Messages whose fate is known (delivered, or known not to arrive)."""
        if not self.messages:
            return 100
        return round(100 * (self.delivered + self.not_reached) / self.messages)

    @property
    def called(self) -> int:
        return sum(1 for r in self.call_list if r.called_by)

    @property
    def still_moving(self) -> bool:
        return self.waiting > 0 or self.on_the_way > 0


def records_of_batch(
    session: Session, org: Organization, batch: str
) -> list[DepartureCancellation]:
    records = list(
        session.scalars(
            select(DepartureCancellation)
            .options(
                joinedload(DepartureCancellation.departure).joinedload(Departure.tour),
            )
            .where(
                DepartureCancellation.organization_id == org.id,
                DepartureCancellation.batch == batch,
            )
            .order_by(DepartureCancellation.id)
        )
    )
    if not records:
        raise NotFound("no such cancellation")
    return records


def progress(session: Session, org: Organization, records: list[DepartureCancellation]) -> Progress:
    """Messages by how far they got, and the call list: everyone no message reached (no
    channel, opted out, failed, WhatsApp window closed), with names and whether called."""
    result = Progress(records, records[0].reason if records else "")
    result.to_hand_back = (
        session.scalar(
            select(func.count(Task.id))
            .join(Booking, Booking.id == Task.booking_id)
            .where(
                Task.organization_id == org.id,
                Task.kind == "refund",
                Task.status == TaskStatus.OPEN,
                Booking.departure_id.in_([r.departure_id for r in records] or [0]),
            )
        )
        or 0
    )
    ids = [i for r in records for i in (r.message_ids or [])]
    messages = list(session.scalars(select(Message).where(Message.id.in_(ids or [0]))))
    by_id = {m.id: m for m in messages}
    phones = {m.to_phone for m in messages} | {
        str(u.get("phone")) for r in records for u in (r.unreachable or [])
    }
    customers = {
        c.phone: c
        for c in session.scalars(
            select(Customer).where(Customer.organization_id == org.id, Customer.phone.in_(phones))
        )
    }
    booking_of = _bookings_by_phone(session, records)
    for record in records:
        result.bookings += record.bookings_cancelled
        result.people += record.people
        result.refunded_minor += record.refunded_minor
        reached: set[str] = set()
        failed: dict[str, str] = {}
        for mid in record.message_ids or []:
            m = by_id.get(mid)
            if m is None:
                continue
            if m.status in DELIVERED:
                result.delivered += 1
                reached.add(m.to_phone)
            elif m.status in ON_THE_WAY:
                result.on_the_way += 1
                reached.add(m.to_phone)
            elif m.status in WAITING:
                result.waiting += 1
                reached.add(m.to_phone)
            else:
                result.not_reached += 1
                why = NOT_REACHED.get(MessageStatus(m.status), str(m.status))
                if m.error_code or m.error_message:
                    why += f" ({m.error_code or m.error_message})"
                failed[m.to_phone] = why
        rows: dict[str, CallRow] = {}
        for u in record.unreachable or []:
            phone = str(u.get("phone") or "")
            rows[phone] = CallRow(
                record.departure.code,
                str(u.get("booking") or ""),
                str(u.get("name") or ""),
                phone,
                str(u.get("why") or ""),
            )
        for phone, why in failed.items():
            if phone in reached or phone in rows:
                continue
            customer = customers.get(phone)
            rows[phone] = CallRow(
                record.departure.code,
                booking_of.get((record.departure_id, phone), ""),
                (customer.name or "") if customer else "",
                phone,
                why,
            )
        for phone, row in rows.items():
            tick: dict[str, Any] = (record.called or {}).get(phone) or {}
            row.called_by, row.called_at = tick.get("by"), tick.get("at")
            if not row.name and phone in customers:
                row.name = customers[phone].name or ""
        result.call_list += sorted(rows.values(), key=lambda r: (bool(r.called_by), r.name))
    return result


def _bookings_by_phone(
    session: Session, records: list[DepartureCancellation]
) -> dict[tuple[int, str], str]:
    rows = session.execute(
        select(Booking.departure_id, Customer.phone, Booking.reference)
        .join(Customer, Customer.id == Booking.customer_id)
        .where(Booking.departure_id.in_([r.departure_id for r in records] or [0]))
        .order_by(Booking.id)
    )
    return {(dep, phone): ref for dep, phone, ref in rows}


def mark_called(
    record: DepartureCancellation, phone: str, who: str, now: datetime, *, called: bool = True
) -> None:
    """Ticks (or unticks) a person on the call list as called, with who did it and when."""
    ticks = dict(record.called or {})
    if called:
        ticks[phone] = {"by": who, "at": now.isoformat()}
    else:
        ticks.pop(phone, None)
    record.called = ticks  # a new dict: the JSON column sees the change
