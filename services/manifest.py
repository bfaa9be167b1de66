"""The manifest staff and guides read on the morning of a tour (the departure page, its
printable page): who is coming, how to reach them, what they need, where to pick them up,
what they still owe, whether they are checked in; and the alerts first (pickups, unpaid,
dietary, accessibility). The guide's text-message version is operations.manifest_messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import (
    EXPECTED_STATUSES,
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    StaffUser,
)
from services import timeline
from services.errors import ServiceError

# Guests are checked in on the day: from this long before the start.
CHECK_IN_OPENS = timedelta(hours=12)


class ManifestError(ServiceError):
    pass


@dataclass(frozen=True)
class Entry:
    booking: Booking
    name: str  # who the booking is under: the customer's name, a guest's, or their number
    guests: tuple[str, ...]
    adults: int
    children: int

    @property
    def confirmed(self) -> bool:
        return self.booking.status == BookingStatus.CONFIRMED

    @property
    def due_minor(self) -> int:
        return self.booking.balance_minor

    @property
    def here(self) -> int:
        """Guests checked in at the meeting point (all of them once the guide's CHECKIN
        started the trip with this booking on it)."""
        if self.booking.checked_in_guests:
            return self.booking.checked_in_guests
        return self.booking.seats if self.booking.attendance in ("on_trip", "completed") else 0

    @property
    def checked_in(self) -> bool:
        return self.here >= self.booking.seats


@dataclass
class Manifest:
    departure: Departure
    entries: list[Entry] = field(default_factory=list)

    @property
    def bookings(self) -> list[Booking]:
        return [e.booking for e in self.entries]

    @property
    def adults(self) -> int:
        return sum(e.adults for e in self.entries)

    @property
    def children(self) -> int:
        return sum(e.children for e in self.entries)

    @property
    def guests(self) -> int:
        return self.adults + self.children

    @property
    def dietary(self) -> int:
        return sum(1 for e in self.entries if e.booking.dietary_notes)

    @property
    def accessibility(self) -> int:
        return sum(1 for e in self.entries if e.booking.accessibility_notes)

    @property
    def pickups(self) -> int:
        return sum(1 for e in self.entries if e.booking.pickup_notes)

    @property
    def unconfirmed(self) -> int:
        return sum(1 for e in self.entries if not e.confirmed)

    @property
    def unpaid(self) -> int:
        """Bookings that still owe money or are not confirmed: possible no-shows."""
        return sum(1 for e in self.entries if e.due_minor or not e.confirmed)

    @property
    def checked_in(self) -> int:
        """Guests here (of self.guests)."""
        return sum(e.here for e in self.entries)

    def alerts(self) -> list[tuple[str, bool]]:
        """What needs attention before leaving, as (words, needs action now)."""
        return [
            (_count(self.pickups, "hotel pickup"), self.pickups > 0),
            (_count(self.unpaid, "unpaid or unconfirmed booking"), self.unpaid > 0),
            (_count(self.dietary, "dietary need"), self.dietary > 0),
            (_count(self.accessibility, "accessibility need"), self.accessibility > 0),
        ]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def manifest(session: Session, departure: Departure) -> Manifest:
    """Everyone expected on the departure (confirmed, or still holding seats), in booking
    order."""
    bookings = session.scalars(
        select(Booking)
        .options(joinedload(Booking.customer), joinedload(Booking.checked_in_by))
        .where(Booking.departure_id == departure.id, Booking.status.in_(EXPECTED_STATUSES))
        .order_by(Booking.id)
    )
    result = Manifest(departure)
    for b in bookings:
        adults = b.party.get("adult", 0)
        guests = tuple(b.guest_names or ())
        name = b.customer.name or (guests[0] if guests else b.customer.phone)
        result.entries.append(Entry(b, name, guests, adults, b.seats - adults))
    return result


def check_in(
    session: Session,
    booking: Booking,
    guests: int,
    by: StaffUser,
    now: datetime,
) -> Booking:
    """Records how many of the booking's guests are at the meeting point (0 undoes it).
    Setting the same number again changes nothing (a double tap on a phone)."""
    dep = booking.departure
    if booking.status not in EXPECTED_STATUSES:
        raise ManifestError(f"{booking.reference} is {booking.status}: nobody to check in.")
    if dep.status in (DepartureStatus.CANCELLED, DepartureStatus.COMPLETED):
        raise ManifestError(f"{dep.code} is {dep.status}: check-in is closed.")
    if now < dep.starts_at - CHECK_IN_OPENS:
        raise ManifestError(f"Check-in for {dep.code} opens 12 hours before the start.")
    if not 0 <= guests <= booking.seats:
        raise ManifestError(
            f"{booking.reference} is for {booking.seats} "
            f"guest{'' if booking.seats == 1 else 's'}: check in 0 to {booking.seats}."
        )
    if guests == booking.checked_in_guests:
        return booking
    booking.checked_in_guests = guests
    booking.checked_in_at = now if guests else None
    booking.checked_in_by_id = by.id if guests else None
    timeline.record(
        session,
        booking,
        "booking.checked_in",
        actor=f"staff:{by.id}",
        source="admin",
        at=now,
        content={"here": f"{guests} of {booking.seats}"},
    )
    return booking
