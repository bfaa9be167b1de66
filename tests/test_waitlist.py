"""Waitlist: join with position, offers when seats free up, timeout and decline cascade,
driven through `flask jobs sweep --now` as production drives it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus, Organization, WaitlistEntry, WaitlistStatus
from services import bookings, inventory, waitlist
from services.waitlist import WaitlistError
from tests.conftest import import_org
from tests.factories import departure, hold, make_customer


def fill(
    session: Session, org: Organization, now: datetime, code: str = "CITY0120"
) -> list[Booking]:
    """Books the 3-seat city walk full: one confirmed pair and one held single."""
    dep = departure(session, org, code)
    pair = hold(session, org, dep, "+12025550150", now, 2)
    bookings.confirm_booking(session, org, pair, now)
    single = hold(session, org, dep, "+12025550151", now, 1, hold_hours=1)
    return [pair, single]


def join(
    session: Session, org: Organization, phone: str, seats: int, now: datetime
) -> WaitlistEntry:
    return waitlist.join_waitlist(
        session,
        org,
        departure(session, org, "CITY0120"),
        make_customer(session, org, phone, now),
        {"adult": seats},
        now,
        source="whatsapp",
    )


def sweep_cli(app: Flask, moment: datetime) -> dict[str, list[str]]:
    result = app.test_cli_runner().invoke(args=["jobs", "sweep", "--now", moment.isoformat()])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    summary.pop("reminders", None)  # reminders have their own tests (test_reminders.py)
    return summary


def test_join_gives_positions_and_a_waitlisted_booking(
    session: Session, org: Organization, now: datetime
) -> None:
    fill(session, org, now)
    first = join(session, org, "+12025550160", 1, now)
    second = join(session, org, "+12025550161", 2, now + timedelta(seconds=1))
    assert waitlist.position(session, first) == 1
    assert waitlist.position(session, second) == 2
    assert first.booking.status == BookingStatus.WAITLISTED
    assert first.status == WaitlistStatus.WAITING
    with pytest.raises(WaitlistError, match="already on the waitlist"):
        join(session, org, "+12025550160", 1, now)


def test_join_is_refused_while_seats_are_free(
    session: Session, org: Organization, now: datetime
) -> None:
    with pytest.raises(WaitlistError, match="book them instead"):
        join(session, org, "+12025550162", 2, now)


def test_join_is_refused_for_a_party_larger_than_the_departure(
    session: Session, org: Organization, now: datetime
) -> None:
    fill(session, org, now)  # 3 seats in all
    with pytest.raises(WaitlistError, match="at most 3 people"):
        join(session, org, "+12025550163", 4, now)
    assert session.scalar(select(WaitlistEntry)) is None
    assert waitlist.position(session, join(session, org, "+12025550164", 3, now)) == 1


def test_cancellation_offers_the_seat_to_the_first_in_line(
    session: Session, org: Organization, now: datetime
) -> None:
    pair, _ = fill(session, org, now)
    first = join(session, org, "+12025550163", 2, now)
    second = join(session, org, "+12025550164", 1, now + timedelta(seconds=1))
    offers = bookings.cancel_and_free_seats(session, org, pair, now, reason="customer cancelled")
    assert offers == [first]
    assert first.status == WaitlistStatus.OFFERED
    assert first.offer_expires_at == now + timedelta(hours=2)
    assert second.status == WaitlistStatus.WAITING
    # The offered seats are reserved: nobody else can hold them meanwhile.
    assert inventory.occupancy(session, pair.departure, now).spots_left == 0


def test_larger_party_at_the_head_keeps_its_place_while_a_smaller_one_fits(
    session: Session, org: Organization, now: datetime
) -> None:
    _, single = fill(session, org, now)
    big = join(session, org, "+12025550165", 3, now)
    small = join(session, org, "+12025550166", 1, now + timedelta(seconds=1))
    bookings.cancel_and_free_seats(session, org, single, now, reason="changed plans")
    assert (big.status, small.status) == (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)
    assert waitlist.position(session, big) == 1


def test_accepting_an_offer_turns_it_into_a_hold(
    session: Session, org: Organization, now: datetime
) -> None:
    pair, _ = fill(session, org, now)
    entry = join(session, org, "+12025550167", 2, now)
    bookings.cancel_and_free_seats(session, org, pair, now, reason="cancelled")
    booking = waitlist.accept_offer(session, org, entry, now + timedelta(minutes=30))
    assert booking.status == BookingStatus.HELD
    assert booking.hold_expires_at == now + timedelta(minutes=30, hours=24)
    assert entry.status == WaitlistStatus.ACCEPTED
    occ = inventory.occupancy(session, pair.departure, now + timedelta(minutes=30))
    assert (occ.held, occ.offered, occ.spots_left) == (
        3,
        0,
        0,
    )  # 2 from the offer + the 1-seat hold


def test_accepting_after_the_offer_expired_is_refused(
    session: Session, org: Organization, now: datetime
) -> None:
    pair, _ = fill(session, org, now)
    entry = join(session, org, "+12025550168", 2, now)
    bookings.cancel_and_free_seats(session, org, pair, now, reason="cancelled")
    with pytest.raises(WaitlistError, match="expired"):
        waitlist.accept_offer(session, org, entry, now + timedelta(hours=3))


def test_decline_moves_to_the_back_and_passes_the_offer_on(
    session: Session, org: Organization, now: datetime
) -> None:
    pair, _ = fill(session, org, now)
    first = join(session, org, "+12025550169", 2, now)
    second = join(session, org, "+12025550170", 2, now + timedelta(seconds=1))
    bookings.cancel_and_free_seats(session, org, pair, now, reason="cancelled")
    offers = waitlist.decline_offer(session, org, first, now + timedelta(minutes=5))
    assert offers == [second]
    assert first.status == WaitlistStatus.WAITING
    assert waitlist.position(session, first) == 2


def test_sweep_cascade_hold_expiry_offer_timeout_next_in_line(
    app: Flask, factory: sessionmaker[Session], now: datetime
) -> None:
    with factory() as s:
        org = import_org(s, now)
        fill(s, org, now)  # the single-seat hold lapses after an hour
        first = join(s, org, "+12025550171", 1, now)
        second = join(s, org, "+12025550172", 1, now + timedelta(seconds=1))
        s.commit()
        first_ref, second_ref = first.booking.reference, second.booking.reference

    result = sweep_cli(app, now + timedelta(minutes=30))
    assert result == {"expired_holds": [], "expired_offers": [], "offers_made": []}

    at_expiry = now + timedelta(hours=1)
    result = sweep_cli(app, at_expiry)
    assert len(result["expired_holds"]) == 1
    assert result["offers_made"] == [first_ref]
    assert sweep_cli(app, at_expiry) == {
        "expired_holds": [],
        "expired_offers": [],
        "offers_made": [],
    }

    # The first in line does not answer within 2 hours: the offer passes to the second.
    result = sweep_cli(app, at_expiry + timedelta(hours=2))
    assert result == {
        "expired_holds": [],
        "expired_offers": [first_ref],
        "offers_made": [second_ref],
    }

    with factory() as s:
        entries = {e.booking.reference: e for e in s.scalars(select(WaitlistEntry))}
        assert entries[first_ref].status == WaitlistStatus.EXPIRED
        assert entries[first_ref].booking.status == BookingStatus.EXPIRED
        assert entries[second_ref].status == WaitlistStatus.OFFERED
        assert entries[second_ref].offer_expires_at == at_expiry + timedelta(hours=4)


def test_sweep_cli_refuses_a_bad_time(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "sweep", "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.output and "Traceback" not in result.output
