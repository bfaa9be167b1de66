"""Holds and seat counting on one transaction: never more seats than capacity."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models import BookingStatus, DepartureStatus, Organization
from services import inventory, timeline
from services.inventory import DepartureNotBookable, NotEnoughSeats
from tests.factories import departure, hold, make_customer


def test_hold_reserves_seats_with_price_and_expiry(
    session: Session, org: Organization, now: datetime
) -> None:
    dep = departure(session, org, "SUN0116")
    booking = inventory.hold_seats(
        session,
        org,
        dep,
        make_customer(session, org, "+12025550130", now),
        {"adult": 2, "child": 1},
        now,
        source="whatsapp",
    )
    session.commit()
    assert booking.reference.startswith("BK-") and len(booking.reference) == 8
    assert booking.status == BookingStatus.HELD
    assert (booking.seats, booking.total_minor, booking.deposit_minor) == (3, 12700, 3810)
    assert booking.hold_expires_at == now + timedelta(hours=24)
    occ = inventory.occupancy(session, dep, now)
    assert (occ.held, occ.spots_left) == (3, 1)
    assert [e.event_type for e in timeline.events_for(session, org.id, booking.reference)] == [
        "booking.held"
    ]
    assert "departure.seats_held" in [
        e.event_type for e in timeline.events_for(session, org.id, dep.code)
    ]


def test_hold_never_outlives_the_departure(session: Session, org: Organization) -> None:
    dep = departure(session, org, "SUN0116")
    just_before = dep.starts_at - timedelta(hours=3)
    booking = hold(session, org, dep, "+12025550131", just_before, 1)
    assert booking.hold_expires_at == dep.starts_at


def test_not_enough_seats_says_how_many_are_left(
    session: Session, org: Organization, now: datetime
) -> None:
    dep = departure(session, org, "CITY0120")
    hold(session, org, dep, "+12025550132", now, 2)
    with pytest.raises(NotEnoughSeats) as info:
        hold(session, org, dep, "+12025550133", now, 2)
    assert info.value.message == "Not enough seats: only 1 seat is left on CITY0120, 2 requested."
    assert info.value.spots_left == 1


def test_lapsed_hold_frees_its_seats_even_before_the_sweep(
    session: Session, org: Organization, now: datetime
) -> None:
    dep = departure(session, org, "CITY0120")
    hold(session, org, dep, "+12025550134", now, 3, hold_hours=1)
    assert inventory.occupancy(session, dep, now + timedelta(minutes=59)).spots_left == 0
    assert inventory.occupancy(session, dep, now + timedelta(hours=1)).spots_left == 3


@pytest.mark.parametrize(
    "status", [DepartureStatus.CLOSED, DepartureStatus.CANCELLED, DepartureStatus.STARTED]
)
def test_only_open_departures_can_be_held(
    session: Session, org: Organization, now: datetime, status
) -> None:
    dep = departure(session, org, "CITY0120")
    dep.status = status
    with pytest.raises(DepartureNotBookable, match=status.value):
        hold(session, org, dep, "+12025550135", now, 1)


def test_started_departure_cannot_be_held(session: Session, org: Organization) -> None:
    dep = departure(session, org, "CITY0120")
    later = dep.starts_at + timedelta(minutes=1)
    with pytest.raises(DepartureNotBookable, match="already started"):
        hold(session, org, dep, "+12025550136", later, 1)
