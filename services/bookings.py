"""Booking lifecycle operations beyond the hold: confirm, cancel, expire, complete.

Anything that frees seats passes them to the waitlist in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    ACTIVE_WAITLIST_STATUSES,
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Departure,
    Lead,
    LeadStatus,
    Organization,
    WaitlistEntry,
    WaitlistStatus,
)
from models.enums import status_label
from services import leads, waitlist, waitlist_states
from services.booking_states import BookingTransitionError, transition
from services.errors import NotFound
from services.inventory import NotEnoughSeats, occupancy
from services.locking import lock_departure, lock_departures


def get_booking(session: Session, org: Organization, reference: str) -> Booking:
    booking = session.scalar(
        select(Booking).where(
            Booking.organization_id == org.id, Booking.reference == reference.strip().upper()
        )
    )
    if booking is None:
        raise NotFound(f"No booking {reference!r}.")
    return booking


def _lock(session: Session, booking: Booking) -> Departure:
    departure = lock_departure(session, booking.departure)
    session.refresh(booking)
    return departure


def confirm_booking(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
    reason: str | None = None,
) -> Booking:
    """Makes the seats the booking's for good. A hold that lapsed (by status, or by its
    deadline before the sweep noticed) is only confirmed if its seats are still free."""
    departure = _lock(session, booking)
    lapsed = booking.status == BookingStatus.EXPIRED or (
        booking.status in HOLDING_STATUSES
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now
    )
    if booking.status not in (*HOLDING_STATUSES, BookingStatus.EXPIRED):
        raise BookingTransitionError(
            f"Booking {booking.reference} is {status_label(booking.status)} "
            "and cannot be confirmed."
        )
    if lapsed:
        # The lapsed hold no longer counts in occupancy, so this is a fresh check.
        free = occupancy(session, departure, now).spots_left
        if booking.seats > free:
            raise NotEnoughSeats(departure, booking.seats, free)
    transition(
        session,
        booking,
        BookingStatus.CONFIRMED,
        now,
        actor=actor,
        source=source,
        reason=reason,
        content={"recounted": lapsed},
        capacity_rechecked=lapsed,
    )
    booking.hold_expires_at = None
    if booking.lead_id is not None:
        lead = session.get(Lead, booking.lead_id)
        if lead is not None and lead.status not in (LeadStatus.WON,):
            leads.change_status(
                session,
                lead,
                LeadStatus.WON,
                now,
                actor=actor,
                source=source,
                note=f"booking {booking.reference} confirmed",
            )
    return booking


def cancel_and_free_seats(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    reason: str,
    actor: str = "system",
    source: str = "system",
) -> list[WaitlistEntry]:
    """Cancels and hands the freed seats to the waitlist; no money moves (a customer's or a
    departure's cancellation with refunds is cancellations.cancel_with_refund, which calls
    this). Returns the offers made."""
    departure = _lock(session, booking)
    transition(
        session, booking, BookingStatus.CANCELLED, now, actor=actor, source=source, reason=reason
    )
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.booking_id == booking.id))
    if entry is not None and entry.status in ACTIVE_WAITLIST_STATUSES:
        waitlist_states.transition(
            session, entry, WaitlistStatus.CANCELLED, now, actor=actor, source=source
        )
    return waitlist.offer_free_seats(session, org, departure, now)


def expire_due_holds(session: Session, now: datetime) -> list[Booking]:
    """Holds past their deadline become EXPIRED. Their seats stopped counting at the
    deadline already; this records it and lets the sweep offer them on."""
    due_ids = list(
        session.scalars(
            select(Booking.id).where(
                Booking.status.in_(HOLDING_STATUSES), Booking.hold_expires_at <= now
            )
        )
    )
    if not due_ids:
        return []
    bookings = list(session.scalars(select(Booking).where(Booking.id.in_(due_ids))))
    lock_departures(session, (b.departure_id for b in bookings))
    expired = []
    for booking in bookings:
        session.refresh(booking)
        # A payment may have confirmed it between our read and the lock.
        if booking.status not in HOLDING_STATUSES or (
            booking.hold_expires_at is not None and booking.hold_expires_at > now
        ):
            continue
        transition(session, booking, BookingStatus.EXPIRED, now, reason="hold expired")
        expired.append(booking)
    return expired


def complete_booking(
    session: Session,
    booking: Booking,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
) -> None:
    transition(session, booking, BookingStatus.COMPLETED, now, actor=actor, source=source)


def mark_no_show(
    session: Session,
    booking: Booking,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
) -> None:
    transition(session, booking, BookingStatus.NO_SHOW, now, actor=actor, source=source)
