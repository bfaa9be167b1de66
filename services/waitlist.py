"""Waitlist for full departures: join, offers when seats free up, accept, decline, expiry.

An offer reserves its seats (inventory counts live offers) for waitlist_offer_hours.
Offers go in queue order to the first entries whose party fits the free seats: seats
held back for a party that cannot use them would help nobody, and the skipped party
keeps its place for the next opening.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ACTIVE_WAITLIST_STATUSES,
    Booking,
    BookingStatus,
    Customer,
    Departure,
    DepartureStatus,
    Lead,
    Organization,
    WaitlistEntry,
    WaitlistStatus,
)
from services import notify, timeline, waitlist_states
from services.booking_states import transition
from services.errors import ServiceError
from services.i18n import N_
from services.inventory import check_bookable, hold_length, new_booking, occupancy
from services.locking import lock_departure, lock_departures
from services.pricing import price_party
from services.references import insert_with_reference


class WaitlistError(ServiceError):
    http_status = 409


def position(session: Session, entry: WaitlistEntry) -> int:
    """1-based place in line among entries still waiting or holding an offer."""
    ahead = session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.departure_id == entry.departure_id,
            WaitlistEntry.status.in_(ACTIVE_WAITLIST_STATUSES),
            (WaitlistEntry.queued_at < entry.queued_at)
            | ((WaitlistEntry.queued_at == entry.queued_at) & (WaitlistEntry.id < entry.id)),
        )
    )
    return int(ahead or 0) + 1


def queue(session: Session, departure_id: int) -> list[WaitlistEntry]:
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.departure_id == departure_id,
                WaitlistEntry.status.in_(ACTIVE_WAITLIST_STATUSES),
            )
            .order_by(WaitlistEntry.queued_at, WaitlistEntry.id)
        )
    )


def join_waitlist(
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
) -> WaitlistEntry:
    """Puts the party in line with a WAITLISTED booking. Refused when the seats are
    there to be held right now: the customer should book instead of waiting."""
    departure = lock_departure(session, departure)
    check_bookable(departure, now)
    price = price_party(org, departure, party, now)
    already = session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.departure_id == departure.id,
            WaitlistEntry.customer_id == customer.id,
            WaitlistEntry.status.in_(ACTIVE_WAITLIST_STATUSES),
        )
    )
    if already is not None:
        raise WaitlistError(
            N_("You are already on the waitlist for {code} (position {position})."),
            code=departure.code,
            position=position(session, already),
        )
    if price.seats > departure.capacity:
        # No cancellation could ever make room: a place in line would be a false promise.
        raise WaitlistError(
            N_(
                "{code} takes at most {capacity} people: a place in line for {seats} could "
                "never come up."
            ),
            code=departure.code,
            capacity=departure.capacity,
            seats=price.seats,
        )
    free = occupancy(session, departure, now).spots_left
    if price.seats <= free and not queue(session, departure.id):
        raise WaitlistError(
            N_("{code} has {free} seats free: book them instead."), code=departure.code, free=free
        )

    booking = insert_with_reference(
        session,
        "BK",
        lambda ref: new_booking(
            org,
            departure,
            customer,
            price,
            ref,
            status=BookingStatus.WAITLISTED,
            source=source,
            lead=lead,
        ),
    )
    entry = WaitlistEntry(
        organization_id=org.id,
        departure_id=departure.id,
        customer_id=customer.id,
        booking_id=booking.id,
        seats=price.seats,
        queued_at=now,
    )
    session.add(entry)
    session.flush()
    place = position(session, entry)
    timeline.record(
        session,
        booking,
        "booking.waitlisted",
        actor=actor,
        source=source,
        at=now,
        content={"departure": departure.code, "seats": price.seats, "position": place},
    )
    timeline.record(
        session,
        departure,
        "waitlist.joined",
        actor=actor,
        source=source,
        at=now,
        content={"booking": booking.reference, "seats": price.seats, "position": place},
    )
    # If seats are free but others are ahead, the queue decides who gets them.
    offer_free_seats(session, org, departure, now)
    return entry


def offer_free_seats(
    session: Session, org: Organization, departure: Departure, now: datetime
) -> list[WaitlistEntry]:
    """Gives offers to the first waiting entries that fit the seats now free. Call with
    the departure locked (lock_departure); safe to call any number of times."""
    if departure.status != DepartureStatus.OPEN or departure.starts_at <= now:
        return []
    free = occupancy(session, departure, now).spots_left
    made: list[WaitlistEntry] = []
    hours = org.settings.waitlist_offer_hours
    for entry in queue(session, departure.id):
        if free <= 0:
            break
        if entry.status != WaitlistStatus.WAITING or entry.seats > free:
            continue
        entry.offered_at = now
        entry.offer_expires_at = min(now + timedelta(hours=hours), departure.starts_at)
        entry.offers_made += 1
        free -= entry.seats
        made.append(entry)
        waitlist_states.transition(
            session,
            entry,
            WaitlistStatus.OFFERED,
            now,
            event="waitlist.offered",
            content={
                "departure": departure.code,
                "seats": entry.seats,
                "offer_expires_at": entry.offer_expires_at.isoformat(),
            },
        )
        # The message is queued in this transaction: an offer never exists without it.
        notify.waitlist_offer(session, org, entry, now)
    if made:
        session.flush()
    return made


def _locked_entry(session: Session, entry: WaitlistEntry) -> tuple[WaitlistEntry, Departure]:
    departure = lock_departure(session, entry.departure)
    session.refresh(entry)
    return entry, departure


def accept_offer(
    session: Session,
    org: Organization,
    entry: WaitlistEntry,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
) -> Booking:
    """CONFIRM on an offer: the WAITLISTED booking becomes a HELD one at today's price.
    The offer's seats were reserved, so no recount is needed while it is live."""
    entry, departure = _locked_entry(session, entry)
    if entry.status != WaitlistStatus.OFFERED:
        raise WaitlistError(N_("There is no open offer on this waitlist entry."))
    if entry.offer_expires_at is None or entry.offer_expires_at <= now:
        raise WaitlistError(N_("This offer has expired; you are no longer holding the spot."))
    check_bookable(departure, now)
    booking = entry.booking
    price = price_party(org, departure, booking.party, now)
    waitlist_states.transition(
        session, entry, WaitlistStatus.ACCEPTED, now, actor=actor, source=source
    )
    booking.lines = [line.as_dict() for line in price.lines]
    booking.total_minor = price.total_minor
    booking.discount_minor = price.discount_minor
    booking.deposit_minor = price.deposit_minor
    booking.hold_expires_at = min(now + hold_length(org, departure, now), departure.starts_at)
    transition(
        session,
        booking,
        BookingStatus.HELD,
        now,
        actor=actor,
        source=source,
        reason="waitlist offer accepted",
        content={"hold_expires_at": booking.hold_expires_at.isoformat()},
    )
    return booking


def decline_offer(
    session: Session,
    org: Organization,
    entry: WaitlistEntry,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
) -> list[WaitlistEntry]:
    """DECLINE keeps the customer on the list, at the back, and passes the seats on."""
    entry, departure = _locked_entry(session, entry)
    if entry.status != WaitlistStatus.OFFERED:
        raise WaitlistError(N_("There is no open offer on this waitlist entry."))
    entry.queued_at = now
    entry.offered_at = entry.offer_expires_at = None
    waitlist_states.transition(
        session,
        entry,
        WaitlistStatus.WAITING,
        now,
        event="waitlist.declined",
        actor=actor,
        source=source,
        content={"departure": departure.code},
    )
    return offer_free_seats(session, org, departure, now)


def leave_waitlist(
    session: Session,
    org: Organization,
    entry: WaitlistEntry,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
) -> None:
    entry, departure = _locked_entry(session, entry)
    if entry.status not in ACTIVE_WAITLIST_STATUSES:
        raise WaitlistError(N_("This waitlist entry is no longer active."))
    waitlist_states.transition(
        session, entry, WaitlistStatus.CANCELLED, now, actor=actor, source=source
    )
    transition(
        session,
        entry.booking,
        BookingStatus.CANCELLED,
        now,
        actor=actor,
        source=source,
        reason="left the waitlist",
    )
    offer_free_seats(session, org, departure, now)


def expire_offers(session: Session, now: datetime) -> list[WaitlistEntry]:
    """Offers past their deadline: the entry leaves the list (the customer did not
    answer) and its WAITLISTED booking expires. Returns the expired entries."""
    due = list(
        session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.status == WaitlistStatus.OFFERED,
                WaitlistEntry.offer_expires_at <= now,
            )
        )
    )
    if not due:
        return []
    lock_departures(session, (e.departure_id for e in due))
    expired = []
    for entry in due:
        session.refresh(entry)
        if entry.status != WaitlistStatus.OFFERED or (
            entry.offer_expires_at is not None and entry.offer_expires_at > now
        ):
            continue  # another sweep or an accept got there first
        waitlist_states.transition(session, entry, WaitlistStatus.EXPIRED, now)
        transition(
            session,
            entry.booking,
            BookingStatus.EXPIRED,
            now,
            reason="waitlist offer not taken up in time",
        )
        expired.append(entry)
    return expired


def departures_with_waiting(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(WaitlistEntry.departure_id)
            .join(Departure, Departure.id == WaitlistEntry.departure_id)
            .where(
                WaitlistEntry.status == WaitlistStatus.WAITING,
                Departure.status == DepartureStatus.OPEN,
                Departure.starts_at > now,
            )
            .distinct()
        )
    )
