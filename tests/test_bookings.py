"""The booking lifecycle: every transition in the table allowed, every other one refused."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, LeadSource, LeadStatus, Organization
from services import bookings, inventory, timeline
from services.booking_states import ALLOWED, BookingTransitionError, transition
from services.inventory import NotEnoughSeats
from services.leads import LeadContext, create_lead
from tests.factories import departure, hold, make_customer

S = BookingStatus
ALL_PAIRS = [(a, b) for a in S for b in S if a != b]


def held(
    session: Session,
    org: Organization,
    now: datetime,
    phone: str = "+12025550140",
    seats: int = 1,
    **kwargs,
) -> Booking:
    return hold(session, org, "CITY0120", phone, now, seats, **kwargs)


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_transition_table(
    session: Session, org: Organization, now: datetime, source: S, target: S
) -> None:
    booking = held(session, org, now)
    booking.status = source
    if target in ALLOWED[source] and not (source == S.EXPIRED and target == S.CONFIRMED):
        transition(session, booking, target, now, reason="test")
        assert booking.status == target
        last = timeline.events_for(session, org.id, booking.reference)[-1]
        assert last.content["from"] == source.value and last.content["to"] == target.value
    else:
        with pytest.raises(BookingTransitionError, match=r"cannot|capacity check"):
            transition(session, booking, target, now)
        assert booking.status == source


def test_confirm_from_hold_wins_the_lead(
    session: Session, org: Organization, now: datetime
) -> None:
    customer = make_customer(session, org, "+12025550141", now)
    lead = create_lead(session, org, customer, now, source=LeadSource.SMS, context=LeadContext())
    booking = inventory.hold_seats(
        session,
        org,
        departure(session, org, "CITY0120"),
        customer,
        {"adult": 1},
        now,
        source="sms",
        lead=lead,
    )
    assert lead.status == LeadStatus.QUOTED
    bookings.confirm_booking(session, org, booking, now + timedelta(hours=1))
    assert booking.status == S.CONFIRMED and booking.hold_expires_at is None
    assert lead.status == LeadStatus.WON


def test_expired_booking_confirms_only_after_a_fresh_capacity_check(
    session: Session, org: Organization, now: datetime
) -> None:
    late = held(session, org, now, seats=2, hold_hours=1)
    later = now + timedelta(hours=2)
    bookings.expire_due_holds(session, later)
    assert late.status == S.EXPIRED
    # Someone else takes 2 of the 3 seats meanwhile: the late payer no longer fits.
    held(session, org, later, phone="+12025550142", seats=2)
    with pytest.raises(NotEnoughSeats):
        bookings.confirm_booking(session, org, late, later)
    assert late.status == S.EXPIRED


def test_expired_booking_confirms_when_seats_are_still_there(
    session: Session, org: Organization, now: datetime
) -> None:
    late = held(session, org, now, seats=2, hold_hours=1)
    later = now + timedelta(hours=2)
    bookings.expire_due_holds(session, later)
    bookings.confirm_booking(session, org, late, later)
    assert late.status == S.CONFIRMED
    assert timeline.events_for(session, org.id, late.reference)[-1].content["recounted"] is True


def test_lapsed_hold_not_yet_swept_is_also_rechecked(
    session: Session, org: Organization, now: datetime
) -> None:
    late = held(session, org, now, seats=3, hold_hours=1)
    later = now + timedelta(hours=2)
    held(session, org, later, phone="+12025550143", seats=1)  # the lapsed seats were free again
    with pytest.raises(NotEnoughSeats):
        bookings.confirm_booking(session, org, late, later)


def test_cancel_frees_seats(session: Session, org: Organization, now: datetime) -> None:
    booking = held(session, org, now, seats=3)
    bookings.confirm_booking(session, org, booking, now)
    bookings.cancel_and_free_seats(session, org, booking, now, reason="customer asked")
    assert booking.status == S.CANCELLED and booking.cancelled_at == now
    assert inventory.occupancy(session, booking.departure, now).spots_left == 3
    with pytest.raises(BookingTransitionError):
        bookings.cancel_and_free_seats(session, org, booking, now, reason="twice")


def test_complete_and_no_show_only_from_confirmed(
    session: Session, org: Organization, now: datetime
) -> None:
    first, second = held(session, org, now), held(session, org, now, phone="+12025550144")
    with pytest.raises(BookingTransitionError):
        bookings.complete_booking(session, first, now)
    bookings.confirm_booking(session, org, first, now)
    bookings.confirm_booking(session, org, second, now)
    bookings.complete_booking(session, first, now)
    bookings.mark_no_show(session, second, now)
    assert (first.status, second.status) == (S.COMPLETED, S.NO_SHOW)
    # Seats of completed trips and no-shows stay counted.
    assert inventory.occupancy(session, first.departure, now).booked == 2
