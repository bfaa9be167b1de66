"""Alternatives to a full departure: searched in widening windows, yet always the same
departures a search of the whole 90 days would give."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from models import Departure, Organization
from services import availability
from tests.factories import new_departure

_codes = itertools.count(1)
PARTY = {"adult": 2}

# (hours from the full departure, capacity): capacity 1 cannot take the party of two. One
# departure per hour at most (a tour has one departure per start time); all start at :07,
# clear of the test catalog's own departures on the hour.
# Offsets cluster around the search windows' edges (7 and 30 days), where a departure just
# outside a window can be nearer than one just inside it.
hours = st.one_of(
    st.integers(-24 * 100, 24 * 100),
    *(st.integers(days * 24 - 30, days * 24 + 30) for days in (-30, -7, 7, 30)),
).filter(lambda h: h != 0)
departures = st.lists(
    st.tuples(hours, st.sampled_from([1, 1, 2, 8])),
    max_size=30,
    unique_by=lambda d: d[0],
)


def tour_departure(
    session: Session, org: Organization, starts_at: datetime, capacity: int
) -> Departure:
    return new_departure(session, org, f"ALT{next(_codes)}", starts_at, capacity)


def nearest_by_full_search(
    session: Session, org: Organization, full: Departure, now: datetime, limit: int
) -> list[int]:
    around = org.local(full.starts_at).date()
    window = timedelta(days=90)
    everything = availability.search(
        session,
        org,
        now,
        tour=full.tour,
        date_from=max(around - window, now.astimezone(org.tz).date()),
        date_to=around + window,
        party=PARTY,
    )
    others = [a for a in everything if a.departure.id != full.id]
    others.sort(key=lambda a: abs(a.departure.starts_at - full.starts_at))
    return [a.departure.id for a in others[:limit]]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=departures, limit=st.integers(1, 3), days_ahead=st.integers(1, 120))
def test_alternatives_are_the_nearest_bookable_departures(
    session: Session,
    org: Organization,
    now: datetime,
    spec: list[tuple[int, int]],
    limit: int,
    days_ahead: int,
) -> None:
    with session.begin_nested() as nested:
        full = tour_departure(session, org, now + timedelta(days=days_ahead, hours=3, minutes=7), 1)
        for hours, capacity in spec:
            tour_departure(session, org, full.starts_at + timedelta(hours=hours), capacity)
        session.flush()
        found = availability.alternatives(session, org, full, PARTY, now, limit=limit)
        assert [a.departure.id for a in found] == nearest_by_full_search(
            session, org, full, now, limit
        )
        assert all(a.departure.starts_at > now and a.spots_left >= 2 for a in found)
        nested.rollback()


def test_a_nearer_departure_just_outside_the_first_window_wins(
    session: Session, org: Organization, now: datetime
) -> None:
    # The full one starts at 20:07 local: the 7-day window reaches 7 days 20 hours back
    # but only 7 days 4 hours ahead. Just past its far edge (7 d 5 h) is nearer than the
    # one inside it, 7 d 10 h back.
    day = now.astimezone(org.tz).date() + timedelta(days=20)
    full = tour_departure(
        session, org, datetime.combine(day, time(20, 7), tzinfo=org.tz).astimezone(now.tzinfo), 1
    )
    later = tour_departure(session, org, full.starts_at + timedelta(days=7, hours=5), 8)
    tour_departure(session, org, full.starts_at - timedelta(days=7, hours=10), 8)
    session.flush()
    found = availability.alternatives(session, org, full, PARTY, now, limit=1)
    assert [a.departure.id for a in found] == [later.id]
