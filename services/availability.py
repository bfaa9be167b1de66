"""Availability search: which departures can this party actually book, and at what price."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Departure, DepartureStatus, Organization, Tour
from services.errors import ServiceError
from services.i18n import N_
from services.inventory import Occupancy, occupancy_many
from services.pricing import PriceBreakdown, PricingError, party_size, price_party

MAX_RANGE_DAYS = 366


class AvailabilityError(ServiceError):
    pass


@dataclass(frozen=True)
class AvailableDeparture:
    departure: Departure
    starts_local: datetime
    occupancy: Occupancy
    price: PriceBreakdown | None

    @property
    def spots_left(self) -> int:
        return self.occupancy.spots_left


def local_day_bounds(org: Organization, first: date, last: date) -> tuple[datetime, datetime]:
    """[start of first, start of the day after last) in the organization's time zone, as
    UTC instants: "Saturday" means Saturday where the tour runs."""
    # The first and last days a calendar can hold, a day in: their bounds in any zone stay
    # inside years 1..9999 (a customer asking for 31 December 9999 was a 500).
    first, last = max(first, date.min + timedelta(days=1)), min(last, date.max - timedelta(days=2))
    start = datetime.combine(first, time.min, tzinfo=org.tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=org.tz)
    return start, end


def search(
    session: Session,
    org: Organization,
    now: datetime,
    *,
    tour: Tour | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    party: Mapping[str, Any] | None = None,
    limit: int | None = None,
    order: Callable[[Departure], Any] | None = None,
) -> list[AvailableDeparture]:
    """Open, future departures with room for the whole party, soonest first (or in the
    `order` given: then only as many are priced as the limit needs).

    With no dates it searches from now for MAX_RANGE_DAYS. Departures the party cannot be
    priced for (a child on an adults-only tour) are left out; a departure is never offered
    if booking it would be refused.
    """
    today = now.astimezone(org.tz).date()
    first = date_from or today
    last = date_to or (first + timedelta(days=MAX_RANGE_DAYS - 1))
    if last < first:
        raise AvailabilityError(N_("the end date is before the start date"))
    if (last - first).days >= MAX_RANGE_DAYS:
        raise AvailabilityError(N_("search at most {days} days at a time"), days=MAX_RANGE_DAYS)
    start, end = local_day_bounds(org, first, last)
    start = max(start, now)
    if start >= end:
        return []

    departures = _open_departures(session, org, tour, start, end)
    if order is not None:
        departures.sort(key=order)  # stable: soonest first among equals
    return _bookable(session, org, now, departures, party, priced_tour=tour, limit=limit)


def _open_departures(
    session: Session, org: Organization, tour: Tour | None, start: datetime, end: datetime
) -> list[Departure]:
    stmt = (
        select(Departure)
        .where(
            Departure.organization_id == org.id,
            Departure.status == DepartureStatus.OPEN,
            Departure.starts_at >= start,
            Departure.starts_at < end,
        )
        .order_by(Departure.starts_at, Departure.id)
    )
    if tour is not None:
        # The tour is already in the session: each departure finds it there, without SQL.
        stmt = stmt.where(Departure.tour_id == tour.id)
    else:
        stmt = stmt.options(selectinload(Departure.tour).selectinload(Tour.price_tiers))
    return list(session.scalars(stmt))


def _bookable(
    session: Session,
    org: Organization,
    now: datetime,
    departures: list[Departure],
    party: Mapping[str, Any] | None,
    *,
    priced_tour: Tour | None,
    limit: int | None,
) -> list[AvailableDeparture]:
    """The departures, in the order given, that have room for the party and can be priced
    for it; only as many are priced as the limit needs."""
    seats_needed = party_size(party) if party else 1
    occupancies = occupancy_many(session, departures, now)
    results: list[AvailableDeparture] = []
    for dep in departures:
        occ = occupancies[dep.id]
        if occ.spots_left < seats_needed:
            continue
        price = None
        if party:
            try:
                price = price_party(org, dep, party, now)
            except PricingError:
                if priced_tour is not None:
                    raise  # they asked about this tour: tell them why it cannot be priced
                continue
        results.append(AvailableDeparture(dep, org.local(dep.starts_at), occ, price))
        if limit is not None and len(results) >= limit:
            break
    return results


# Searched nearest first: a full departure usually has a free one within days, and loading
# three months of departures (and their seat counts) for every "sorry, it's full" is waste.
ALTERNATIVE_WINDOWS = (timedelta(days=7), timedelta(days=30), timedelta(days=90))


def alternatives(
    session: Session,
    org: Organization,
    departure: Departure,
    party: Mapping[str, Any],
    now: datetime,
    *,
    limit: int = 3,
) -> list[AvailableDeparture]:
    """The nearest other departures of the same tour with room for the party, by
    distance in time from the one that is full, at most 90 days away."""
    around = org.local(departure.starts_at).date()
    today = now.astimezone(org.tz).date()

    def distance(dep: Departure) -> timedelta:
        return abs(dep.starts_at - departure.starts_at)

    found: list[AvailableDeparture] = []
    for window in ALTERNATIVE_WINDOWS:
        start, end = local_day_bounds(org, max(around - window, today), around + window)
        candidates = [
            d
            for d in _open_departures(session, org, departure.tour, max(start, now), end)
            if d.id != departure.id
        ]
        candidates.sort(key=distance)
        found = _bookable(
            session, org, now, candidates, party, priced_tour=departure.tour, limit=limit
        )
        # Whatever lies outside this window is more than window - 1 hour away (its edges
        # are local midnights, a DST change moves them by an hour); when the last one found
        # is closer than that, a wider window would find the same departures.
        if len(found) >= limit and distance(found[-1].departure) <= window - timedelta(days=1):
            break
    return found
