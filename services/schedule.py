"""When a tour runs, read the way customers ask: a day's departures full ones included
("no departure is hidden because another has room"), the one at "18:00" or in "the
evening", the weekdays and times it runs, and the departures nearest to a date asked
(not nearest to today)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Departure, DepartureStatus, Organization, Tour
from services.availability import AvailableDeparture, local_day_bounds, search
from services.inventory import occupancy_many
from services.pricing import party_size

# Parts of the day, as customers say them: [from, to) local hours.
DAYPARTS: dict[str, tuple[int, int]] = {
    "morning": (4, 12),
    "lunch": (11, 15),
    "afternoon": (12, 17),
    "evening": (17, 24),
    "night": (19, 24),
}
EARLY, LATE = "early", "late"  # the first or the last departure of the day
# "the 6pm one" for a 17:30 departure: a time said loosely still finds it.
CLOSE_ENOUGH = timedelta(minutes=45)
MAX_DAY_LISTED = 6


@dataclass(frozen=True)
class Seats:
    """A departure and the seats left on it (zero when full)."""

    departure: Departure
    spots_left: int

    def fits(self, party: Mapping[str, int] | None) -> bool:
        return self.spots_left >= (party_size(party) if party else 1)


def departures_between(
    session: Session, org: Organization, tour: Tour, first: date, last: date, now: datetime
) -> list[Seats]:
    """Every open, future departure of the tour on those local days, full or not, soonest
    first, with its seats left."""
    start, end = local_day_bounds(org, first, last)
    start = max(start, now)
    if start >= end:
        return []
    departures = list(
        session.scalars(
            select(Departure)
            .where(
                Departure.tour_id == tour.id,
                Departure.status == DepartureStatus.OPEN,
                Departure.starts_at >= start,
                Departure.starts_at < end,
            )
            .order_by(Departure.starts_at, Departure.id)
        )
    )
    seats = occupancy_many(session, departures, now)
    return [Seats(d, seats[d.id].spots_left) for d in departures]


def at_time_of_day(
    org: Organization, found: list[Seats], *, clock: str | None, daypart: str | None
) -> list[Seats]:
    """The departures at the time asked: "18:00" (the nearest start within 45 minutes),
    "evening", "the early one" / "the late one" (the first / last of its day)."""
    if clock:
        # "~11:00": an hour said without am/pm, 11:00 or 23:00.
        loose = clock.startswith("~")
        hours, minutes = (int(p) for p in clock.lstrip("~").split(":"))
        wanted = [timedelta(hours=hours, minutes=minutes)]
        if loose:
            wanted.append(wanted[0] + timedelta(hours=12))

        def gap(s: Seats) -> timedelta:
            local = org.local(s.departure.starts_at)
            at = timedelta(hours=local.hour, minutes=local.minute)
            return min(abs(at - w) for w in wanted)

        close = [s for s in found if gap(s) <= CLOSE_ENOUGH]
        if not close:
            return []
        best = min(gap(s) for s in close)
        return [s for s in close if gap(s) == best]
    if daypart in DAYPARTS:
        low, high = DAYPARTS[daypart]
        return [s for s in found if low <= org.local(s.departure.starts_at).hour < high]
    if daypart in (EARLY, LATE):
        by_day: dict[date, list[Seats]] = {}
        for s in found:
            by_day.setdefault(org.local(s.departure.starts_at).date(), []).append(s)
        pick = 0 if daypart == EARLY else -1
        return [day[pick] for day in by_day.values()]
    return found


@dataclass(frozen=True)
class RunPattern:
    """How a tour runs over the coming weeks: its weekdays (0 = Monday) and start times."""

    weekdays: tuple[int, ...]
    starts: tuple[datetime, ...]  # one departure at each of its start times, by time
    next_dates: tuple[date, ...]

    @property
    def daily(self) -> bool:
        return len(self.weekdays) == 7


PATTERN_WINDOW = timedelta(days=60)


def runs(session: Session, org: Organization, tour: Tour, now: datetime) -> RunPattern:
    starts = list(
        session.scalars(
            select(Departure.starts_at)
            .where(
                Departure.tour_id == tour.id,
                Departure.status == DepartureStatus.OPEN,
                Departure.starts_at > now,
                Departure.starts_at < now + PATTERN_WINDOW,
            )
            .order_by(Departure.starts_at)
        )
    )
    local = [org.local(s) for s in starts]
    by_time: dict[time, datetime] = {}
    for moment in local:
        by_time.setdefault(moment.time(), moment)
    return RunPattern(
        weekdays=tuple(sorted({d.weekday() for d in local})),
        starts=tuple(by_time[t] for t in sorted(by_time)),
        next_dates=tuple(dict.fromkeys(d.date() for d in local))[:5],
    )


# Searched outwards from the date asked: most tours run weekly or more often.
NEAREST_WINDOWS = (timedelta(days=7), timedelta(days=31), timedelta(days=120))


def nearest(
    session: Session,
    org: Organization,
    tour: Tour,
    first: date,
    last: date,
    now: datetime,
    *,
    party: Mapping[str, Any] | None,
    limit: int = 3,
) -> list[AvailableDeparture]:
    """The departures with room for the party nearest to the days asked (before or after
    them, never in the past), nearest first."""
    today = now.astimezone(org.tz).date()
    middle_start, _ = local_day_bounds(org, first, last)
    _, middle_end = local_day_bounds(org, last, last)

    def distance(departure: Departure) -> timedelta:
        at = departure.starts_at
        if at < middle_start:
            return middle_start - at
        return max(at - middle_end, timedelta(0))

    found: list[AvailableDeparture] = []
    for window in NEAREST_WINDOWS:
        date_from = max(first - timedelta(days=window.days), today)
        date_to = last + timedelta(days=window.days)
        # Nearest first, so only the ones shown are priced (every departure of the window
        # was, for a "see other dates" line under each full one).
        found = search(
            session,
            org,
            now,
            tour=tour,
            date_from=date_from,
            date_to=date_to,
            party=party,
            limit=limit,
            order=distance,
        )
        if len(found) >= limit:
            break
    return found
