"""Changing a booking the customer already has: more or fewer people, or another departure
of the same tour. One quote (what it would cost, checked against the seats left) and one
apply (under the departure locks, seats counted again, the booking's price rewritten and
the change on its timeline), for the chat and the admin alike.

The new price is worked out on the booking's own terms: the tiers' prices now, with the
early-bird discount as it stood when the booking was made (a customer adding a friend
does not lose the discount they booked with, nor gain one they did not have). What is
already paid stays paid: more people leave more to pay (the balance), fewer may leave
money paid over the new total, which is for a person to refund under the cancellation
policy (returned as over_paid_minor; nothing is refunded here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Departure, Organization
from services import phrases, timeline
from services.errors import ServiceError
from services.i18n import N_
from services.inventory import NotEnoughSeats, check_bookable, occupancy
from services.locking import lock_departures
from services.pricing import PriceBreakdown, price_party, validate_party

# A booking that can still change: held (not yet paid), or confirmed. Not while the owner
# decides on it (pending approval) or a checkout for it is open (payment pending).
CHANGEABLE = (BookingStatus.HELD, BookingStatus.CONFIRMED)


class BookingChangeError(ServiceError):
    http_status = 409


@dataclass(frozen=True)
class Change:
    """A change worked out and not yet made: what the booking would become."""

    booking: Booking
    departure: Departure  # the booking's own, or the one it moves to
    party: dict[str, int]
    price: PriceBreakdown
    # The booking as it was when the change was worked out (apply rewrites it).
    was_departure_id: int
    was_seats: int
    was_total_minor: int
    paid_minor: int

    @property
    def moves(self) -> bool:
        return self.departure.id != self.was_departure_id

    @property
    def difference_minor(self) -> int:
        """The new total less the old: positive costs more."""
        return self.price.total_minor - self.was_total_minor

    @property
    def owed_minor(self) -> int:
        """Left to pay after the change."""
        return max(0, self.price.total_minor - self.paid_minor)

    @property
    def over_paid_minor(self) -> int:
        """Paid beyond the new total: a refund for a person to decide."""
        return max(0, self.paid_minor - self.price.total_minor)

    @property
    def extra_seats(self) -> int:
        """Seats the change needs on the departure beyond those the booking has there."""
        seats = self.price.seats
        return seats if self.moves else seats - self.was_seats

    def as_slot(self) -> dict[str, Any]:
        """What a conversation keeps while the customer is asked to confirm."""
        return {
            "booking": self.booking.reference,
            "departure": self.departure.code,
            "party": dict(self.party),
            "total_minor": self.price.total_minor,
        }


def _changeable(booking: Booking, now: datetime) -> None:
    if booking.status not in CHANGEABLE:
        raise BookingChangeError(
            N_("{reference} can't be changed while it is {status}."),
            reference=booking.reference,
            status=phrases.status(booking.status),
        )
    if booking.departure.starts_at <= now:
        raise BookingChangeError(
            N_("{reference} has already started."), reference=booking.reference
        )


def _price(
    org: Organization, booking: Booking, departure: Departure, party: Mapping[str, int]
) -> PriceBreakdown:
    # The booking's terms: the early bird as it stood when it was made.
    return price_party(org, departure, party, booking.created_at)


def quote(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    party: Mapping[str, int] | None = None,
    departure: Departure | None = None,
) -> Change:
    """The booking with a new party and/or on another departure of the same tour, priced
    and checked against the seats left now (NotEnoughSeats otherwise). Writes nothing."""
    _changeable(booking, now)
    target = departure or booking.departure
    if target.organization_id != org.id or target.tour_id != booking.departure.tour_id:
        raise BookingChangeError(N_("a booking can only move to a date of the same tour"))
    check_bookable(target, now)
    new_party = validate_party(target, party if party is not None else booking.party)
    if target.id == booking.departure_id and new_party == booking.party:
        raise BookingChangeError(
            N_("{reference} is already for that."), reference=booking.reference
        )
    change = Change(
        booking,
        target,
        new_party,
        _price(org, booking, target, new_party),
        was_departure_id=booking.departure_id,
        was_seats=booking.seats,
        was_total_minor=booking.total_minor,
        paid_minor=booking.paid_minor,
    )
    free = occupancy(session, target, now).spots_left
    if change.extra_seats > free:
        raise NotEnoughSeats(target, change.extra_seats, free)
    return change


def apply(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    party: Mapping[str, int] | None = None,
    departure: Departure | None = None,
    actor: str = "system",
    source: str = "system",
) -> Change:
    """Makes the change: the departures locked (in id order, as the sweep locks them), the
    seats counted again under the lock, the booking's party, seats, price and departure
    rewritten, the change on the timelines of the booking and its departures."""
    target = departure or booking.departure
    locked = lock_departures(session, [booking.departure_id, target.id])
    target = locked[target.id]
    # Read again under the lock: a payment or another change may have landed meanwhile.
    session.refresh(booking)
    change = quote(session, org, booking, now, party=party, departure=target)
    before = {
        "departure": booking.departure.code,
        "party": dict(booking.party),
        "seats": booking.seats,
        "total_minor": booking.total_minor,
    }
    price, old = change.price, booking.departure
    booking.departure_id = target.id
    booking.departure = target
    booking.party = {line.tier: line.quantity for line in price.lines}
    booking.seats = price.seats
    booking.lines = [line.as_dict() for line in price.lines]
    booking.total_minor = price.total_minor
    booking.discount_minor = price.discount_minor
    booking.deposit_minor = price.deposit_minor
    if booking.status == BookingStatus.HELD and booking.hold_expires_at is not None:
        # A hold never outlasts its departure's start (services.inventory).
        booking.hold_expires_at = min(booking.hold_expires_at, target.starts_at)
    after = {
        "departure": target.code,
        "party": dict(booking.party),
        "seats": booking.seats,
        "total_minor": booking.total_minor,
    }
    event = "booking.moved" if change.moves else "booking.party_changed"
    content = {"before": before, "after": after, "over_paid_minor": change.over_paid_minor}
    timeline.record(session, booking, event, actor=actor, source=source, at=now, content=content)
    for dep in dict.fromkeys((old, target)):
        timeline.record(
            session,
            dep,
            "departure.booking_changed",
            actor=actor,
            source=source,
            at=now,
            content={"booking": booking.reference, "before": before, "after": after},
        )
    return change
