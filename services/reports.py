"""Read models for staff pages: the departure board, a manifest, and the owner's day at a
glance. Reads only; every figure is counted from the rows, never from a cached counter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models import (
    Booking,
    BookingStatus,
    Conversation,
    ConversationStatus,
    Departure,
    Incident,
    IncidentStatus,
    Organization,
    WaitlistEntry,
    WaitlistStatus,
)
from services import assignments, owner_report
from services.availability import local_day_bounds
from services.inventory import Occupancy, occupancy_many

HOLDS_EXPIRING_WITHIN = timedelta(hours=6)


@dataclass
class DepartureRow:
    departure: Departure
    occupancy: Occupancy
    waiting: int
    # An unanswered offer to a guide: the guide's name and when it was made.
    pending_guide: str | None = None
    offered_at: datetime | None = None

    @property
    def guests(self) -> int:
        return self.occupancy.booked + self.occupancy.held


def departure_board(
    session: Session, org: Organization, first: date, last: date, now: datetime
) -> list[DepartureRow]:
    """Departures starting between two local days, with capacity, booked, held, waitlist."""
    start, end = local_day_bounds(org, first, last)
    departures = list(
        session.scalars(
            select(Departure)
            .options(joinedload(Departure.tour), joinedload(Departure.guide))
            .where(
                Departure.organization_id == org.id,
                Departure.starts_at >= start,
                Departure.starts_at < end,
            )
            .order_by(Departure.starts_at, Departure.code)
        )
    )
    occupancy = occupancy_many(session, departures, now)
    waiting = waitlist_counts(session, [d.id for d in departures])
    offers = assignments.pending_offers(session, [d.id for d in departures if d.guide_id is None])
    rows = []
    for d in departures:
        offer = offers.get(d.id)
        rows.append(
            DepartureRow(
                d,
                occupancy[d.id],
                waiting.get(d.id, 0),
                offer.guide.name if offer else None,
                offer.offered_at if offer else None,
            )
        )
    return rows


def waitlist_counts(session: Session, departure_ids: list[int]) -> dict[int, int]:
    if not departure_ids:
        return {}
    rows = session.execute(
        select(WaitlistEntry.departure_id, func.count())
        .where(
            WaitlistEntry.departure_id.in_(departure_ids),
            WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)),
        )
        .group_by(WaitlistEntry.departure_id)
    )
    return {dep_id: count for dep_id, count in rows}


@dataclass
class MonthFigures:
    bookings: int  # confirmed in the month and still on
    revenue_minor: int  # received less refunded in the month
    cancelled: int = 0  # confirmed in the month, cancelled since


@dataclass
class Dashboard:
    today: list[DepartureRow]
    tomorrow: list[DepartureRow]
    open_incidents: list[Incident]
    waiting_conversations: list[Conversation]
    pending_approvals: list[Booking]
    expiring_holds: list[Booking]
    this_month: MonthFigures
    last_month: MonthFigures
    extra: dict[str, int] = field(default_factory=dict)


def dashboard(session: Session, org: Organization, now: datetime) -> Dashboard:
    today = org.local(now).date()
    month_start = today.replace(day=1)
    last_month_start = (month_start - timedelta(days=1)).replace(day=1)
    return Dashboard(
        today=departure_board(session, org, today, today, now),
        tomorrow=departure_board(
            session, org, today + timedelta(days=1), today + timedelta(days=1), now
        ),
        open_incidents=list(
            session.scalars(
                select(Incident)
                .options(joinedload(Incident.departure).joinedload(Departure.tour))
                .where(Incident.organization_id == org.id, Incident.status == IncidentStatus.OPEN)
                .order_by(Incident.opened_at)
                .limit(20)
            )
        ),
        waiting_conversations=list(
            session.scalars(
                select(Conversation)
                .options(joinedload(Conversation.customer))
                .where(
                    Conversation.organization_id == org.id,
                    Conversation.status == ConversationStatus.PENDING,
                )
                .order_by(Conversation.last_inbound_at)
                .limit(20)
            )
        ),
        pending_approvals=_bookings(
            session,
            org,
            Booking.status == BookingStatus.PENDING_APPROVAL,
            Booking.hold_expires_at > now,
        ),
        expiring_holds=_bookings(
            session,
            org,
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at > now,
            Booking.hold_expires_at <= now + HOLDS_EXPIRING_WITHIN,
        ),
        this_month=month_figures(session, org, month_start, today + timedelta(days=1)),
        last_month=month_figures(session, org, last_month_start, month_start),
    )


def _bookings(session: Session, org: Organization, *where: object) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .options(
                joinedload(Booking.customer),
                joinedload(Booking.departure).joinedload(Departure.tour),
            )
            .where(Booking.organization_id == org.id, *where)  # type: ignore[arg-type]
            .order_by(Booking.hold_expires_at)
            .limit(20)
        )
    )


def month_figures(session: Session, org: Organization, first: date, end: date) -> MonthFigures:
    """Bookings confirmed between two local days and still on (those cancelled since are
    counted apart, as in the owner's report), and money kept (paid less refunded)."""
    when = owner_report.Period(first, end - timedelta(days=1))
    made = owner_report.bookings_made(session, org, *when.bounds(org))
    money = owner_report.money(session, org, *when.bounds(org))
    return MonthFigures(made.kept, money.net_minor, made.cancelled_since)
