"""What the crew modules (assignments, the day of a departure, incidents) share: their error,
telling ops, the support line, which departure a guide's command means, whether a guide is
that departure's guide, and a departure's confirmed guests. Below all three, so none of
them imports another for these."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Guide,
    GuideAssignment,
    Organization,
)
from services import notify
from services.errors import ServiceError
from services.i18n import N_


class OperationsError(ServiceError):
    pass


def support_line(org: Organization) -> str:
    return org.settings.support_phone or org.owner_phone or "your operations contact"


def _ops_phones(org: Organization) -> list[str]:
    return list(org.ops_phones or []) or ([org.owner_phone] if org.owner_phone else [])


def tell_ops(
    session: Session, org: Organization, text: str, now: datetime, *, owner_too: bool = False
) -> None:
    phones = _ops_phones(org)
    if owner_too and org.owner_phone and org.owner_phone not in phones:
        phones.append(org.owner_phone)
    for phone in phones:
        notify.to_staff(session, org, phone, text, now)


def confirmed_bookings(session: Session, departure: Departure) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status == BookingStatus.CONFIRMED)
            .order_by(Booking.id)
        )
    )


def group_size(session: Session, departure: Departure) -> int:
    return sum(b.seats for b in confirmed_bookings(session, departure))


# --- who and which departure --------------------------------------------------------------


def departure_by_code(session: Session, org: Organization, code: str) -> Departure | None:
    return session.scalar(
        select(Departure).where(
            Departure.organization_id == org.id, Departure.code == code.strip().upper()
        )
    )


def current_or_next(session: Session, guide: Guide, now: datetime) -> Departure | None:
    """The departure a guide means without a code: the one under way, or else the next one.
    None when that is ambiguous (two under way) or there is none."""
    mine = select(Departure).where(Departure.guide_id == guide.id)
    started = list(session.scalars(mine.where(Departure.status == DepartureStatus.STARTED)))
    if len(started) == 1:
        return started[0]
    if started:
        return None
    return session.scalar(
        mine.where(Departure.status == DepartureStatus.OPEN, Departure.ends_at > now).order_by(
            Departure.starts_at
        )
    )


# How far ahead "today's" trip may start when the day itself has none: a night's length.
NEXT_WITHIN = timedelta(hours=8)


def todays_departure(
    session: Session, org: Organization, guide: Guide, now: datetime
) -> Departure | None:
    """The guide's first departure starting today where the tour runs; late in the
    evening with none left today, their next one within the night (NEXT_WITHIN): "CHECKIN"
    at 23:30 for a trip leaving at 00:30 is that trip."""
    today = now.astimezone(org.tz).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=org.tz)
    ends = max(start + timedelta(days=1), now + NEXT_WITHIN)
    return session.scalar(
        select(Departure)
        .where(
            Departure.guide_id == guide.id,
            Departure.starts_at >= start,
            Departure.starts_at < ends,
        )
        .order_by(Departure.starts_at)
    )


def must_be_guide_of(guide: Guide, departure: Departure) -> None:
    if departure.guide_id != guide.id:
        raise OperationsError(
            N_("{code} is not assigned to you. Call ops if that is wrong."), code=departure.code
        )


def open_assignment(session: Session, guide: Guide, departure: Departure) -> GuideAssignment | None:
    return session.scalar(
        select(GuideAssignment)
        .where(GuideAssignment.departure_id == departure.id, GuideAssignment.guide_id == guide.id)
        .order_by(GuideAssignment.id.desc())
    )
