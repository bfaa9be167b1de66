"""Seat counting and holds: the one place that decides whether seats exist.

Seats are never stored as a counter that could drift; they are recounted from the
claims themselves, as pretix does: confirmed (and completed / no-show) bookings, holds
whose deadline has not passed, and waitlist offers that have not expired. A hold whose
deadline passed frees its seats at that instant, whether or not the sweep has run yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from models import (
    BOOKED_STATUSES,
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Customer,
    Departure,
    DepartureStatus,
    Lead,
    LeadStatus,
    Organization,
    Quote,
    WaitlistEntry,
    WaitlistStatus,
)
from services import guest_needs, leads, phrases, timeline
from services.errors import ServiceError
from services.i18n import N_
from services.locking import lock_departure
from services.pricing import PriceBreakdown, price_party
from services.references import insert_with_reference


class InventoryError(ServiceError):
    http_status = 409


class NotEnoughSeats(InventoryError):
    def __init__(self, departure: Departure, requested: int, spots_left: int) -> None:
        if spots_left == 0:
            text = f"Not enough seats: {departure.code} is full."
        else:
            plural = "seat is" if spots_left == 1 else "seats are"
            text = (
                f"Not enough seats: only {spots_left} {plural} left on {departure.code}, "
                f"{requested} requested."
            )
        super().__init__(text)
        self.departure_code = departure.code
        self.requested = requested
        self.spots_left = spots_left


class DepartureNotBookable(InventoryError):
    pass


@dataclass(frozen=True)
class Occupancy:
    capacity: int
    booked: int
    held: int
    offered: int

    @property
    def taken(self) -> int:
        return self.booked + self.held + self.offered

    @property
    def spots_left(self) -> int:
        return max(0, self.capacity - self.taken)


def _seat_claims_query() -> Any:
    """Seats claimed per departure, as (departure_id, booked, held, offered) rows: one
    row group from bookings, one from live waitlist offers, in one round trip. Built once;
    run with the departure ids and the moment "now"."""
    now: BindParameter[datetime] = bindparam("now")
    ids: BindParameter[list[int]] = bindparam("departure_ids", expanding=True)
    live_hold = and_(Booking.status.in_(HOLDING_STATUSES), Booking.hold_expires_at > now)
    bookings = (
        select(
            Booking.departure_id,
            func.coalesce(
                func.sum(case((Booking.status.in_(BOOKED_STATUSES), Booking.seats), else_=0)), 0
            ),
            func.coalesce(func.sum(case((live_hold, Booking.seats), else_=0)), 0),
            literal(0),
        )
        .where(
            Booking.departure_id.in_(ids),
            or_(Booking.status.in_(BOOKED_STATUSES), live_hold),
        )
        .group_by(Booking.departure_id)
    )
    offers = (
        select(WaitlistEntry.departure_id, literal(0), literal(0), func.sum(WaitlistEntry.seats))
        .where(
            WaitlistEntry.departure_id.in_(ids),
            WaitlistEntry.status == WaitlistStatus.OFFERED,
            WaitlistEntry.offer_expires_at > now,
        )
        .group_by(WaitlistEntry.departure_id)
    )
    return union_all(bookings, offers)


SEAT_CLAIMS = _seat_claims_query()


def occupancy_many(
    session: Session, departures: Iterable[Departure], now: datetime
) -> dict[int, Occupancy]:
    by_id = {d.id: d for d in departures}
    ids = list(by_id)
    claims = {dep_id: [0, 0, 0] for dep_id in ids}
    # Large IN lists are chunked: SQLite caps bound parameters, and plans stay sane.
    for start in range(0, len(ids), 2000):
        params = {"departure_ids": ids[start : start + 2000], "now": now}
        for dep_id, booked, held, offered in session.execute(SEAT_CLAIMS, params):
            row = claims[dep_id]
            row[0] += int(booked)
            row[1] += int(held)
            row[2] += int(offered)
    return {
        dep_id: Occupancy(capacity=dep.capacity, booked=b, held=h, offered=o)
        for (dep_id, dep), (b, h, o) in zip(by_id.items(), claims.values(), strict=True)
    }


def occupancy(session: Session, departure: Departure, now: datetime) -> Occupancy:
    return occupancy_many(session, [departure], now)[departure.id]


def check_bookable(departure: Departure, now: datetime) -> None:
    if departure.status != DepartureStatus.OPEN:
        raise DepartureNotBookable(
            N_("{code} is {status}, not open for booking."),
            code=departure.code,
            status=phrases.status(departure.status),
        )
    if departure.starts_at <= now:
        raise DepartureNotBookable(N_("{code} has already started."), code=departure.code)


# Holds a customer makes themselves (by chat) are capped; staff's holds are not.
CUSTOMER_CHANNELS = frozenset({"whatsapp", "sms"})


class HoldLimitReached(InventoryError):
    """A customer's own hold refused by the organization's caps on unpaid holds."""


def hold_length(
    org: Organization, departure: Departure, now: datetime, hold_hours: int | None = None
) -> timedelta:
    """How long a hold lasts: hold_hours when the caller says (staff), else the
    organization's hold_hours, shortened to short_hold_hours within short_hold_within_hours
    of the start."""
    if hold_hours:
        return timedelta(hours=hold_hours)
    settings = org.settings
    hours = settings.hold_hours
    if departure.starts_at - now <= timedelta(hours=settings.short_hold_within_hours):
        hours = min(hours, settings.short_hold_hours)
    return timedelta(hours=hours)


def _check_unpaid_limits(
    session: Session,
    org: Organization,
    departure: Departure,
    customer: Customer,
    seats: int,
    now: datetime,
) -> None:
    """Refuses a hold past the caps on unpaid holds (organization settings). Called under
    the departure's lock; the customer's row is locked too, so two holds by one customer on
    different departures at once cannot both slip under the cap."""
    settings = org.settings
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    unpaid = (Booking.status.in_(HOLDING_STATUSES), Booking.hold_expires_at > now)
    holds, held_seats = session.execute(
        select(func.count(), func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.customer_id == customer.id, *unpaid
        )
    ).one()
    # A customer's first hold is never refused by the seat cap (a big group may hold its
    # one departure: capacity governs that); holding more on top of unpaid seats is.
    if holds + 1 > settings.unpaid_holds_per_customer or (
        held_seats > 0 and held_seats + seats > settings.unpaid_seats_per_customer
    ):
        raise HoldLimitReached(
            N_(
                "you already hold as many unpaid seats as we keep for one person. Please pay "
                "for a booking you hold (or cancel it) first, or ask for a person to help."
            )
        )
    if settings.unpaid_share_per_departure < 100:
        on_departure = (
            session.scalar(
                select(func.coalesce(func.sum(Booking.seats), 0)).where(
                    Booking.departure_id == departure.id, *unpaid
                )
            )
            or 0
        )
        if (on_departure + seats) * 100 > departure.capacity * settings.unpaid_share_per_departure:
            raise HoldLimitReached(
                N_(
                    "many seats on that departure are held by others right now. Please try "
                    "again later, or ask for a person to help."
                )
            )


def hold_seats(
    session: Session,
    org: Organization,
    departure: Departure,
    customer: Customer,
    party: Mapping[str, Any],
    now: datetime,
    *,
    source: str,
    actor: str = "system",
    lead: Lead | None = None,
    quote: Quote | None = None,
    hold_hours: int | None = None,
    dietary_notes: str | None = None,
    pickup_notes: str | None = None,
) -> Booking:
    """Holds seats for a party for hold_hours (never past the departure's start).

    The lock, the recount and the insert happen in the caller's one transaction, so two
    customers can never be given the same last seat. Raises NotEnoughSeats, with the
    number of seats left, when the party does not fit.
    """
    if departure.organization_id != org.id or customer.organization_id != org.id:
        raise InventoryError("departure and customer must belong to the organization")
    # Priced before the lock (the price does not depend on the seats left): every hold of
    # this departure waits while the lock is held, so it is held as briefly as possible.
    price = price_party(org, departure, party, now)
    departure = lock_departure(session, departure)
    check_bookable(departure, now)
    free = occupancy(session, departure, now).spots_left
    if price.seats > free:
        raise NotEnoughSeats(departure, price.seats, free)

    if source in CUSTOMER_CHANNELS:
        _check_unpaid_limits(session, org, departure, customer, price.seats, now)
    expires = min(now + hold_length(org, departure, now, hold_hours), departure.starts_at)
    booking = insert_with_reference(
        session,
        "BK",
        lambda ref: new_booking(
            org,
            departure,
            customer,
            price,
            ref,
            status=BookingStatus.HELD,
            source=source,
            hold_expires_at=expires,
            lead=lead,
            quote=quote,
            dietary_notes=dietary_notes,
            pickup_notes=pickup_notes,
        ),
    )
    timeline.record(
        session,
        booking,
        "booking.held",
        actor=actor,
        source=source,
        at=now,
        content={
            "departure": departure.code,
            "seats": price.seats,
            "party": booking.party,
            "hold_expires_at": expires.isoformat(),
            "total_minor": price.total_minor,
        },
    )
    if lead is not None:
        # Diet, pickup or access needs the customer told us in the chat reach the manifest.
        needs = guest_needs.of(booking).filled_from(guest_needs.from_notes(lead.notes))
        guest_needs.apply(booking, needs)
        lead.departure_id = departure.id
        timeline.record(
            session,
            lead,
            "lead.hold_created",
            actor=actor,
            source=source,
            at=now,
            content={"booking": booking.reference},
        )
        # WON waits for the confirmation: a hold that lapses has not won anything.
        if lead.status in (LeadStatus.NEW, LeadStatus.CONTACTED):
            leads.change_status(session, lead, LeadStatus.QUOTED, now, actor=actor, source=source)
    timeline.record(
        session,
        departure,
        "departure.seats_held",
        actor=actor,
        source=source,
        at=now,
        content={
            "booking": booking.reference,
            "seats": price.seats,
            "spots_left": free - price.seats,
        },
    )
    return booking


def new_booking(
    org: Organization,
    departure: Departure,
    customer: Customer,
    price: PriceBreakdown,
    reference: str,
    *,
    status: BookingStatus,
    source: str,
    hold_expires_at: datetime | None = None,
    lead: Lead | None = None,
    quote: Quote | None = None,
    dietary_notes: str | None = None,
    pickup_notes: str | None = None,
) -> Booking:
    return Booking(
        organization_id=org.id,
        reference=reference,
        customer_id=customer.id,
        departure_id=departure.id,
        lead_id=lead.id if lead else None,
        quote_id=quote.id if quote else None,
        status=status,
        source=source,
        party={line.tier: line.quantity for line in price.lines},
        seats=price.seats,
        currency=price.currency,
        lines=[line.as_dict() for line in price.lines],
        total_minor=price.total_minor,
        discount_minor=price.discount_minor,
        deposit_minor=price.deposit_minor,
        hold_expires_at=hold_expires_at,
        dietary_notes=dietary_notes,
        pickup_notes=pickup_notes,
    )
