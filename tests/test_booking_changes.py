"""services/booking_changes.py: a booking's new party or departure, quoted and applied
under the departure locks, for the chat and the admin alike; and bot/booking_words.py,
the words that ask for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from bot import booking_words
from models import Organization
from services import booking_changes, inventory
from services.booking_changes import BookingChangeError
from services.inventory import NotEnoughSeats
from tests.factories import departure, hold, new_departure


def test_adding_people_is_priced_and_checked_against_the_seats_left(
    session: Session, org: Organization, now
) -> None:
    booking = hold(session, org, "CITY0120", "+12025550101", now, 2)  # capacity 3
    change = booking_changes.quote(session, org, booking, now, party={"adult": 3})
    assert (change.difference_minor, change.owed_minor, change.extra_seats) == (2500, 7500, 1)
    with pytest.raises(NotEnoughSeats):
        booking_changes.quote(session, org, booking, now, party={"adult": 4})


def test_apply_counts_the_seats_again_under_the_lock(
    session: Session, org: Organization, now
) -> None:
    booking = hold(session, org, "CITY0120", "+12025550101", now, 2)
    booking_changes.quote(session, org, booking, now, party={"adult": 3})  # fits now
    hold(session, org, "CITY0120", "+12025550102", now, 1)  # the last seat goes meanwhile
    with pytest.raises(NotEnoughSeats):
        booking_changes.apply(session, org, booking, now, party={"adult": 3})
    assert booking.seats == 2


def test_a_move_takes_the_whole_party_to_the_other_departure(
    session: Session, org: Organization, now
) -> None:
    booking = hold(session, org, "CITY0120", "+12025550101", now, 2)
    other = new_departure(
        session,
        org,
        "CITY0121",
        departure(session, org, "CITY0120").starts_at + timedelta(days=1),
        2,
    )
    session.flush()
    change = booking_changes.apply(session, org, booking, now, departure=other)
    assert change.moves and booking.departure_id == other.id and booking.seats == 2
    assert inventory.occupancy(session, departure(session, org, "CITY0120"), now).spots_left == 3
    assert inventory.occupancy(session, other, now).spots_left == 0


def test_fewer_people_on_a_paid_booking_leave_the_overpayment_to_a_person(
    session: Session, org: Organization, now
) -> None:
    booking = hold(session, org, "CITY0120", "+12025550101", now, 3)
    booking.paid_minor = booking.total_minor  # paid in full (7500)
    change = booking_changes.quote(session, org, booking, now, party={"adult": 2})
    assert (change.over_paid_minor, change.owed_minor) == (2500, 0)


def test_only_the_same_tour_and_a_real_change(session: Session, org: Organization, now) -> None:
    booking = hold(session, org, "CITY0120", "+12025550101", now, 2)
    with pytest.raises(BookingChangeError):
        booking_changes.quote(
            session, org, booking, now, departure=departure(session, org, "EBC0315")
        )
    with pytest.raises(BookingChangeError):
        booking_changes.quote(session, org, booking, now, party={"adult": 2})


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("add one more person to BK-7K3Q9", "add"),
        ("can my friend join too?", "add"),
        ("2 more people please", "add"),
        ("my sister can't come anymore", "remove"),
        ("remove one person", "remove"),
        ("make it 4", "party"),
        ("we are now 5", "party"),
        ("how do I pay the rest?", "balance"),
        ("receipt please", "receipt"),
        ("I need an invoice for my company", "invoice"),
        ("can we move it to sunday instead", "move"),
        ("change the date of my booking", "move"),
        ("can you add pickup from the hotel?", None),  # nobody added
        ("is lunch included?", None),
        ("what time does it start", "when_where"),  # read against a booking if any
        ("what time is sunset in march?", None),
    ],
)
def test_what_a_message_asks_of_a_booking(text: str, kind: str | None) -> None:
    assert booking_words.request_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "yes"),
    [
        ("yes", True),
        ("Yes please!", True),
        ("ok go ahead 👍", True),
        ("confirm", True),
        ("yes a manager. now.", False),
        ("yes but for 4", False),
        ("ok and is lunch included?", False),
        ("yes cancel everything and refund me", False),
    ],
)
def test_only_a_clear_yes_is_a_yes(text: str, yes: bool) -> None:
    assert booking_words.clear_yes(text) is yes


def test_a_booking_the_owner_is_deciding_on_is_not_changed(
    session: Session, org: Organization, now
) -> None:
    from models import BookingStatus
    from services import booking_states

    booking = hold(session, org, "CITY0120", "+12025550101", now, 2)
    booking_states.transition(session, booking, BookingStatus.PENDING_APPROVAL, now)
    with pytest.raises(BookingChangeError, match="pending approval"):
        booking_changes.quote(session, org, booking, now, party={"adult": 3})
