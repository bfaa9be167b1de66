"""The periodic sweep: expire lapsed holds and waitlist offers, then make new offers.

Idempotent: running it twice for the same moment changes nothing the second time. All
departures it will touch are locked up front, in id order, so concurrent sweeps (two
workers, or the CLI beside the scheduler) queue up instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Organization,
    WaitlistEntry,
    WaitlistStatus,
)
from services import approvals, bookings, waitlist
from services.locking import lock_departures


@dataclass
class SweepResult:
    expired_holds: list[str] = field(default_factory=list)
    expired_offers: list[str] = field(default_factory=list)
    offers_made: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "expired_holds": self.expired_holds,
            "expired_offers": self.expired_offers,
            "offers_made": self.offers_made,
        }


def _departures_to_touch(session: Session, now: datetime) -> set[int]:
    due_holds = select(Booking.departure_id).where(
        Booking.status.in_(HOLDING_STATUSES), Booking.hold_expires_at <= now
    )
    due_offers = select(WaitlistEntry.departure_id).where(
        WaitlistEntry.status == WaitlistStatus.OFFERED, WaitlistEntry.offer_expires_at <= now
    )
    ids = set(session.scalars(due_holds)) | set(session.scalars(due_offers))
    return ids | set(waitlist.departures_with_waiting(session, now))


def sweep(session: Session, now: datetime) -> SweepResult:
    result = SweepResult()
    departures = lock_departures(session, _departures_to_touch(session, now))
    if not departures:
        return result
    awaiting = set(
        session.scalars(
            select(Booking.id).where(
                Booking.status == BookingStatus.PENDING_APPROVAL, Booking.hold_expires_at <= now
            )
        )
    )
    expired = bookings.expire_due_holds(session, now)
    result.expired_holds = [b.reference for b in expired]
    for booking in expired:
        if booking.id in awaiting:  # the owner did not answer in time
            org = session.get(Organization, booking.organization_id)
            assert org is not None
            approvals.tell_timed_out(session, org, booking, now)
    result.expired_offers = [e.booking.reference for e in waitlist.expire_offers(session, now)]
    orgs: dict[int, Organization] = {}
    for dep_id in sorted(departures):
        dep = departures[dep_id]
        org = orgs.get(dep.organization_id) or session.get(Organization, dep.organization_id)
        assert org is not None
        orgs[org.id] = org
        offers = waitlist.offer_free_seats(session, org, dep, now)
        result.offers_made += [e.booking.reference for e in offers]
    return result
