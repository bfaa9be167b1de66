"""The owner's report for any period: money, bookings, capacity, the sales funnel, leads won
back, how much the bot closes alone and how fast staff answer. Reads only, counted from the
rows; every table is also a CSV (rows()).

Definitions (the same on the page, in the CSV and in docs/reports.md):
- Revenue: money received in the period (payments paid in it); refunds: money returned in
  it (refunds made in it, whatever the payment's date); net: revenue less refunds.
- Bookings made: bookings confirmed in the period (paid or confirmed by staff), counted
  once each; those cancelled since are shown apart and not in "kept". A booking cancelled
  later is still "made" in its month, so a month's figure never changes for a later month's
  cancellation in a way that hides it.
- Outstanding: bookings still on (confirmed, completed, no-show) whose payments do not
  cover the total, for departures from the period's first day on (this month's report
  lists every balance still to collect, upcoming trips included).
- Capacity used: seats booked (confirmed, completed, no-show) of seats offered, over
  departures in the period that were not cancelled.
- Funnel: customers whose conversation started in the period; quoted, held and paid mean
  reached at least that step (a hold without a stored quote was quoted too).
- Failed-booking leads recovered: leads created when a booking failed, in the period, that
  later have a confirmed booking or were won.
- Bot's share: conversations where the customer wrote in the period that needed no person
  (no request for a person and no staff reply in the period).
- First response: from a customer starting to wait for a person (the conversation going
  pending) to a staff member answering it (reply, or resolving it).
- Messaging: for bookings created in the period, the messages that went about each (see
  services/message_costs.py) and what they cost at the prices in the settings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from models import (
    BOOKED_STATUSES,
    RECEIVED_PAYMENT_STATUSES,
    Booking,
    BookingStatus,
    Conversation,
    Customer,
    Departure,
    DepartureStatus,
    Lead,
    LeadSource,
    LeadStatus,
    Message,
    Organization,
    Payment,
    PersonRequest,
    Quote,
    Refund,
    StaffUser,
    Tour,
)
from services import message_costs
from services.errors import ServiceError
from services.money import exponent

MAX_DAYS = 366 * 2
# Tables shown on the page are cut here; the CSV has every row.
PAGE_ROWS = 100


class ReportError(ServiceError):
    pass


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self, org: Organization) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first, time.min, tzinfo=org.tz)
        end = datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=org.tz)
        return start, end


def period(first: date, last: date) -> Period:
    if last < first:
        raise ReportError("The period must end on or after the day it starts.")
    if (last - first).days >= MAX_DAYS:
        raise ReportError(f"Choose at most {MAX_DAYS} days.")
    return Period(first, last)


@dataclass
class Money:
    revenue_minor: int
    refunds_minor: int

    @property
    def net_minor(self) -> int:
        return self.revenue_minor - self.refunds_minor


@dataclass
class BookingsMade:
    made: int
    cancelled_since: int
    people_kept: int
    value_kept_minor: int

    @property
    def kept(self) -> int:
        return self.made - self.cancelled_since


@dataclass
class CapacityRow:
    label: str
    departures: int
    capacity: int
    booked: int
    revenue_minor: int = 0
    code: str | None = None
    starts_at: datetime | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.booked / self.capacity) if self.capacity else 0


@dataclass
class FunnelStep:
    label: str
    count: int
    of_previous: int | None  # percent
    of_first: int | None


@dataclass
class ResponseRow:
    name: str
    answered: int
    median_minutes: float
    slowest_minutes: float


@dataclass
class OwnerReport:
    period: Period
    money: Money
    money_before: Money
    bookings: BookingsMade
    bookings_before: BookingsMade
    by_status: list[tuple[str, int]]
    outstanding: list[Booking]
    outstanding_minor: int
    outstanding_count: int
    tours: list[CapacityRow]
    departures: list[CapacityRow]
    funnel: list[FunnelStep]
    failed_leads: int
    failed_recovered: int
    conversations: int
    bot_alone: int
    responses: list[ResponseRow]
    still_waiting: int
    # Bookings created in the period with their messages and cost, costliest first.
    messaging: list[MessagingRow] = field(default_factory=list)
    messaging_counted: bool = True
    # Of every booking created in the period (the summary needs no rows).
    messaging_total: message_costs.Usage = field(default_factory=message_costs.Usage)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bot_share(self) -> int | None:
        return round(100 * self.bot_alone / self.conversations) if self.conversations else None

    @property
    def recovered_share(self) -> int | None:
        return round(100 * self.failed_recovered / self.failed_leads) if self.failed_leads else None


def change(now_value: int, before: int) -> int | None:
    """Percent change against the previous period (None when there was nothing before)."""
    if before == 0:
        return None
    return round(100 * (now_value - before) / abs(before))


# The page counts messaging per booking for periods up to this long; longer, the messages
# CSV has it (a year's bookings took seconds before migration 0025, 0.1 s since: bench).
MESSAGING_PAGE_DAYS = 92


def owner_report(
    session: Session,
    org: Organization,
    when: Period,
    *,
    messaging: bool = True,
    only: str | None = None,
) -> OwnerReport:
    """The whole report, or (only=a CSV table) just what that table shows: a CSV of the
    departures over a year need not count the year's conversations and funnel too."""

    def wanted(*tables: str) -> bool:
        return only is None or only in tables

    start, end = when.bounds(org)
    summary = wanted("summary")
    # The CSV lists every balance; the page the first PAGE_ROWS, the summary none.
    outstanding = (
        _outstanding(session, org, start, None if only == "outstanding" else PAGE_ROWS)
        if wanted("outstanding")
        else []
    )
    owing, owed = (
        _outstanding_total(session, org, start) if wanted("summary", "outstanding") else (0, 0)
    )
    tours, departures = (
        _capacity(session, org, start, end) if wanted("tours", "departures") else ([], [])
    )
    alone, total = _bot_share(session, org, start, end) if summary else (0, 0)
    responses, waiting = (
        _responses(session, org, start, end) if wanted("summary", "responses") else ([], 0)
    )
    failed, recovered = _failed_leads(session, org, start, end) if summary else (0, 0)
    counting = messaging and wanted("summary", "messages")
    usage = (
        message_costs.usage_by_booking(
            session, org, Booking.created_at >= start, Booking.created_at < end
        )
        if counting
        else {}
    )
    nothing, none_made = Money(0, 0), BookingsMade(0, 0, 0, 0)
    return OwnerReport(
        period=when,
        money=money(session, org, start, end) if summary else nothing,
        money_before=money(session, org, *when.previous().bounds(org)) if summary else nothing,
        bookings=bookings_made(session, org, start, end) if summary else none_made,
        bookings_before=(
            bookings_made(session, org, *when.previous().bounds(org)) if summary else none_made
        ),
        by_status=_by_status(session, org, start, end) if wanted("status") else [],
        outstanding=outstanding[:PAGE_ROWS],
        outstanding_minor=owed,
        outstanding_count=owing,
        tours=tours,
        departures=departures,
        funnel=_funnel(session, org, start, end) if wanted("funnel") else [],
        failed_leads=failed,
        failed_recovered=recovered,
        conversations=total,
        bot_alone=alone,
        responses=responses,
        still_waiting=waiting,
        messaging=_messaging(session, org, start, end, usage)
        if counting and wanted("messages")
        else [],
        messaging_counted=messaging,
        messaging_total=message_costs.total(usage.values()),
        extra={"all_outstanding": outstanding},
    )


@dataclass(frozen=True)
class MessagingRow:
    reference: str
    customer: str  # the name, else the phone
    departure: str  # its code
    status: str
    usage: message_costs.Usage


def _messaging(
    session: Session,
    org: Organization,
    start: datetime,
    end: datetime,
    usage: dict[int, message_costs.Usage],
) -> list[MessagingRow]:
    # Columns, not objects: a year is ten thousand bookings.
    rows = session.execute(
        select(
            Booking.id,
            Booking.reference,
            Booking.status,
            Customer.name,
            Customer.phone,
            Departure.code,
        )
        .join(Customer, Customer.id == Booking.customer_id)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(
            Booking.organization_id == org.id,
            Booking.created_at >= start,
            Booking.created_at < end,
        )
    ).tuples()
    silent = message_costs.Usage()  # one for every booking without messages: read only
    # Unpacked, not read by name (a Row's attribute is a lookup: 60 ms for a year's rows).
    made = [
        MessagingRow(reference, name or phone, code, status, usage.get(booking_id, silent))
        for booking_id, reference, status, name, phone, code in rows
    ]
    return sorted(made, key=lambda r: (-r.usage.cost_micros, r.reference))


def money(session: Session, org: Organization, start: datetime, end: datetime) -> Money:
    paid = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.organization_id == org.id,
            Payment.paid_at >= start,
            Payment.paid_at < end,
            Payment.status.in_(RECEIVED_PAYMENT_STATUSES),
        )
    )
    refunded = session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
            Refund.organization_id == org.id,
            Refund.created_at >= start,
            Refund.created_at < end,
        )
    )
    return Money(int(paid or 0), int(refunded or 0))


def bookings_made(
    session: Session, org: Organization, start: datetime, end: datetime
) -> BookingsMade:
    cancelled = Booking.status == BookingStatus.CANCELLED
    made, gone, people, value = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((cancelled, 1), else_=0)), 0),
            func.coalesce(func.sum(case((cancelled, 0), else_=Booking.seats)), 0),
            func.coalesce(func.sum(case((cancelled, 0), else_=Booking.total_minor)), 0),
        ).where(
            Booking.organization_id == org.id,
            Booking.confirmed_at >= start,
            Booking.confirmed_at < end,
        )
    ).one()
    return BookingsMade(int(made), int(gone), int(people), int(value))


def _by_status(
    session: Session, org: Organization, start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Bookings created in the period, by where they stand now."""
    rows = session.execute(
        select(Booking.status, func.count())
        .where(
            Booking.organization_id == org.id,
            Booking.created_at >= start,
            Booking.created_at < end,
        )
        .group_by(Booking.status)
    ).all()
    order = {s.value: i for i, s in enumerate(BookingStatus)}
    return sorted(((str(s), int(n)) for s, n in rows), key=lambda r: order.get(r[0], 99))


def _owing(org: Organization, start: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Booking.organization_id == org.id,
        Booking.status.in_(BOOKED_STATUSES),
        Booking.total_minor > Booking.paid_minor,
        Departure.starts_at >= start,
    )


def _outstanding(
    session: Session, org: Organization, start: datetime, limit: int | None = None
) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .join(Departure, Departure.id == Booking.departure_id)
            .options(joinedload(Booking.customer), contains_eager(Booking.departure))
            .where(*_owing(org, start))
            .order_by(Departure.starts_at, Booking.id)
            .limit(limit)
        )
    )


def _outstanding_total(session: Session, org: Organization, start: datetime) -> tuple[int, int]:
    """(bookings, their balances): counted in SQL, so the page loads only the rows it
    shows. Their balance is total less paid (still on, and paid short of the total)."""
    count, due = session.execute(
        select(func.count(), func.coalesce(func.sum(Booking.total_minor - Booking.paid_minor), 0))
        .join(Departure, Departure.id == Booking.departure_id)
        .where(*_owing(org, start))
    ).one()
    return int(count), int(due)


def _capacity(
    session: Session, org: Organization, start: datetime, end: datetime
) -> tuple[list[CapacityRow], list[CapacityRow]]:
    booked = (
        select(
            Booking.departure_id.label("departure_id"),
            func.sum(Booking.seats).label("seats"),
            func.sum(Booking.total_minor).label("value"),
        )
        .where(Booking.organization_id == org.id, Booking.status.in_(BOOKED_STATUSES))
        .group_by(Booking.departure_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Departure.code,
            Departure.starts_at,
            Departure.capacity,
            Tour.name,
            func.coalesce(booked.c.seats, 0),
            func.coalesce(booked.c.value, 0),
        )
        .join(Tour, Tour.id == Departure.tour_id)
        .outerjoin(booked, booked.c.departure_id == Departure.id)
        .where(
            Departure.organization_id == org.id,
            Departure.starts_at >= start,
            Departure.starts_at < end,
            Departure.status != DepartureStatus.CANCELLED,
        )
        .order_by(Departure.starts_at, Departure.code)
    ).all()
    departures = [
        CapacityRow(tour, 1, capacity, int(seats), int(value), code, starts)
        for code, starts, capacity, tour, seats, value in rows
    ]
    by_tour: dict[str, CapacityRow] = {}
    for d in departures:
        row = by_tour.setdefault(d.label, CapacityRow(d.label, 0, 0, 0, 0))
        row.departures += 1
        row.capacity += d.capacity
        row.booked += d.booked
        row.revenue_minor += d.revenue_minor
    tours = sorted(by_tour.values(), key=lambda r: (-r.percent, r.label))
    return tours, departures


def _funnel(
    session: Session, org: Organization, start: datetime, end: datetime
) -> list[FunnelStep]:
    """One query: the customers whose conversation started in the period, joined to their
    bookings since the start (grouped per customer) and their quotes since then, each table
    read once (a join per customer scanned every booking once per customer: 228 ms for
    3,000 enquiries; an IN per step, 200 ms for a year's 28,000)."""
    started = (
        select(Conversation.customer_id.label("cid"))
        .where(
            Conversation.organization_id == org.id,
            Conversation.created_at >= start,
            Conversation.created_at < end,
        )
        .distinct()
        .subquery()
    )
    quoted = (
        select(Quote.customer_id.label("cid"))
        .where(
            Quote.organization_id == org.id,
            Quote.created_at >= start,
            Quote.customer_id.is_not(None),
        )
        .distinct()
        .subquery()
    )
    booked = (
        select(
            Booking.customer_id.label("cid"),
            # max of 0/1 rather than bool_or: SQLite (local runs) has no bool_or.
            func.max(case((Booking.status != BookingStatus.WAITLISTED, 1), else_=0)).label("held"),
            func.max(case((Booking.confirmed_at.is_not(None), 1), else_=0)).label("paid"),
        )
        .where(Booking.organization_id == org.id, Booking.created_at >= start)
        .group_by(Booking.customer_id)
        .subquery()
    )

    def step(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    held = booked.c.held == 1
    row = session.execute(
        select(
            func.count(),
            step(or_(quoted.c.cid.is_not(None), held)),
            step(held),
            step(booked.c.paid == 1),
        )
        .select_from(started)
        .outerjoin(booked, booked.c.cid == started.c.cid)
        .outerjoin(quoted, quoted.c.cid == started.c.cid)
    ).one()
    counts = list(zip(("Enquiries", "Quoted", "Held seats", "Paid"), map(int, row), strict=True))
    steps = []
    for i, (label, count) in enumerate(counts):
        before = counts[i - 1][1] if i else None
        steps.append(
            FunnelStep(
                label,
                count,
                round(100 * count / before) if before else None,
                round(100 * count / counts[0][1]) if i and counts[0][1] else None,
            )
        )
    return steps


def _failed_leads(
    session: Session, org: Organization, start: datetime, end: datetime
) -> tuple[int, int]:
    failed: dict[int, str] = {
        lead_id: status
        for lead_id, status in session.execute(
            select(Lead.id, Lead.status).where(
                Lead.organization_id == org.id,
                Lead.source == LeadSource.BOOKING_FAILED,
                Lead.created_at >= start,
                Lead.created_at < end,
            )
        ).tuples()
    }
    confirmed = set(
        session.scalars(
            select(Booking.lead_id)
            .join(Lead, Lead.id == Booking.lead_id)
            .where(
                Lead.organization_id == org.id,
                Lead.source == LeadSource.BOOKING_FAILED,
                Lead.created_at >= start,
                Lead.created_at < end,
                Booking.confirmed_at.is_not(None),
            )
            .distinct()
        )
    )
    won = {lid for lid, status in failed.items() if status == LeadStatus.WON}
    return len(failed), len(won | (confirmed & set(failed)))


def _bot_share(
    session: Session, org: Organization, start: datetime, end: datetime
) -> tuple[int, int]:
    """(conversations the bot closed alone, conversations with a customer message).

    A conversation had a customer message in the period when its last one is in it, or,
    for a period in the past, came later and an earlier one is in it: last_inbound_at is
    the time of the newest inbound message (bot.engine sets both with one clock), so a
    period up to today reads the conversations alone instead of every message of the
    period (a year's 130,000 took 400 ms to count twice)."""
    in_period = and_(Message.created_at >= start, Message.created_at < end)
    earlier_in_period = (
        select(Message.id)
        .where(
            Message.conversation_id == Conversation.id,
            Message.direction == "inbound",
            in_period,
        )
        .exists()
    )
    active = (
        select(Conversation.id.label("cid"))
        .where(
            Conversation.organization_id == org.id,
            Conversation.last_inbound_at >= start,
            Conversation.created_at < end,
            or_(Conversation.last_inbound_at < end, earlier_in_period),
        )
        .subquery()
    )
    by_staff = select(Message.conversation_id).where(
        Message.organization_id == org.id, Message.kind == "agent", in_period
    )
    asked = select(PersonRequest.conversation_id).where(
        PersonRequest.organization_id == org.id,
        PersonRequest.requested_at >= start,
        PersonRequest.requested_at < end,
    )
    needed = or_(active.c.cid.in_(by_staff), active.c.cid.in_(asked))
    total, helped = session.execute(
        select(func.count(), func.coalesce(func.sum(case((needed, 1), else_=0)), 0)).select_from(
            active
        )
    ).one()
    return int(total) - int(helped), int(total)


def _responses(
    session: Session, org: Organization, start: datetime, end: datetime
) -> tuple[list[ResponseRow], int]:
    rows = session.execute(
        select(PersonRequest.requested_at, PersonRequest.closed_at, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == PersonRequest.answered_by_id)
        .where(
            PersonRequest.organization_id == org.id,
            PersonRequest.requested_at >= start,
            PersonRequest.requested_at < end,
        )
    ).all()
    waits: dict[str, list[float]] = defaultdict(list)
    waiting = 0
    for requested, closed, name in rows:
        if closed is None:
            waiting += 1
        elif name is not None:
            waits[name].append((closed - requested).total_seconds() / 60)
    everyone = [m for minutes in waits.values() for m in minutes]
    result = [
        ResponseRow(name, len(m), round(median(m), 1), round(max(m), 1))
        for name, m in sorted(waits.items())
    ]
    if everyone:
        result.append(
            ResponseRow(
                "Everyone", len(everyone), round(median(everyone), 1), round(max(everyone), 1)
            )
        )
    return result, waiting


# --- CSV ---------------------------------------------------------------------------------

TABLES = (
    "summary",
    "status",
    "outstanding",
    "tours",
    "departures",
    "funnel",
    "responses",
    "messages",
)


def rows(report: OwnerReport, table: str, org: Organization) -> list[list[Any]]:
    """One table of the report as CSV rows (a header first); amounts in major units with
    the currency in the header, times in the organization's zone."""
    cur = org.currency

    def major(minor: int) -> str:
        digits = exponent(cur)
        return f"{minor / 10**digits:.{digits}f}"

    if table == "summary":
        m, b = report.money, report.bookings
        return [
            ["figure", "value"],
            [f"revenue ({cur})", major(m.revenue_minor)],
            [f"refunds ({cur})", major(m.refunds_minor)],
            [f"net ({cur})", major(m.net_minor)],
            ["bookings made", b.made],
            ["cancelled since", b.cancelled_since],
            ["bookings kept", b.kept],
            ["people on kept bookings", b.people_kept],
            [f"outstanding ({cur})", major(report.outstanding_minor)],
            ["failed-booking leads", report.failed_leads],
            ["failed-booking leads recovered", report.failed_recovered],
            ["conversations", report.conversations],
            ["closed by the bot alone", report.bot_alone],
            ["still waiting for a person", report.still_waiting],
            ["messages about bookings made", report.messaging_total.messages],
            [f"messaging cost ({cur})", message_costs.major(report.messaging_total.cost_micros)],
        ]
    if table == "status":
        return [["status", "bookings"], *[[s, n] for s, n in report.by_status]]
    if table == "outstanding":
        return [
            [
                "booking",
                "customer",
                "phone",
                "departure",
                "starts",
                f"total ({cur})",
                f"paid ({cur})",
                f"due ({cur})",
            ],
            *[
                [
                    b.reference,
                    b.customer.name or "",
                    b.customer.phone,
                    b.departure.code,
                    org.local(b.departure.starts_at).strftime("%Y-%m-%d %H:%M"),
                    major(b.total_minor),
                    major(b.paid_minor),
                    major(b.balance_minor),
                ]
                for b in report.extra.get("all_outstanding", report.outstanding)
            ],
        ]
    if table in ("tours", "departures"):
        head = [
            "tour",
            "departures",
            "capacity",
            "booked",
            "capacity used %",
            f"booked value ({cur})",
        ]
        if table == "departures":
            head = ["departure", "starts", *head]
        out: list[list[Any]] = [head]
        for r in report.tours if table == "tours" else report.departures:
            line: list[Any] = [
                r.label,
                r.departures,
                r.capacity,
                r.booked,
                r.percent,
                major(r.revenue_minor),
            ]
            if table == "departures":
                starts = org.local(r.starts_at).strftime("%Y-%m-%d %H:%M") if r.starts_at else ""
                line = [r.code, starts, *line]
            out.append(line)
        return out
    if table == "funnel":
        return [
            ["step", "customers", "% of previous", "% of enquiries"],
            *[[s.label, s.count, s.of_previous, s.of_first] for s in report.funnel],
        ]
    if table == "messages":
        cats = message_costs.CATEGORIES
        return [
            ["booking", "customer", "departure", "status", "messages", *cats, f"cost ({cur})"],
            *[
                [
                    r.reference,
                    r.customer,
                    r.departure,
                    r.status,
                    r.usage.messages,
                    *[r.usage.by_category[c] for c in cats],
                    message_costs.major(r.usage.cost_micros),
                ]
                for r in report.messaging
            ],
        ]
    if table == "responses":
        return [
            ["staff", "answered", "median minutes", "slowest minutes"],
            *[[r.name, r.answered, r.median_minutes, r.slowest_minutes] for r in report.responses],
        ]
    raise ReportError(f"No table {table!r}; one of {', '.join(TABLES)}.")
