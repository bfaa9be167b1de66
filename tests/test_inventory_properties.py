"""Property test on PostgreSQL: whatever sequence of holds, confirmations, cancellations,
waitlist moves, sweeps and capacity changes happens to a departure, it is never oversold
and live offers never promise seats that are not free."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Departure, Organization, WaitlistEntry, WaitlistStatus
from services import bookings, inventory, waitlist
from services.errors import ServiceError
from services.sweep import sweep
from tests.factories import make_customer, new_departure

_phones = itertools.count(1000)

operation = st.one_of(
    st.tuples(st.just("hold"), st.integers(1, 4), st.sampled_from([1, 3, 24])),
    st.tuples(st.just("confirm"), st.integers(0, 30)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("join"), st.integers(1, 3)),
    st.tuples(st.just("accept"), st.integers(0, 10)),
    st.tuples(st.just("decline"), st.integers(0, 10)),
    st.tuples(st.just("wait"), st.sampled_from([30, 90, 150])),
    st.tuples(st.just("capacity"), st.integers(1, 3)),
)


def check_invariants(session: Session, dep: Departure, now: datetime) -> None:
    occ = inventory.occupancy(session, dep, now)
    assert occ.taken <= dep.capacity, occ
    offers = session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.departure_id == dep.id,
            WaitlistEntry.status == WaitlistStatus.OFFERED,
            WaitlistEntry.offer_expires_at > now,
        )
    )
    for entry in offers:
        assert entry.booking.status == BookingStatus.WAITLISTED


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(capacity=st.integers(1, 6), ops=st.lists(operation, min_size=5, max_size=25))
def test_no_sequence_of_operations_oversells(
    session: Session, org: Organization, now: datetime, capacity: int, ops: list[tuple]
) -> None:
    dep = new_departure(session, org, f"P{next(_phones)}", now + timedelta(days=30), capacity)
    session.flush()
    clock = now
    for op in ops:
        kind = op[0]
        try:
            with session.begin_nested():
                if kind == "hold":
                    customer = make_customer(session, org, f"+1202555{next(_phones):04d}", clock)
                    inventory.hold_seats(
                        session,
                        org,
                        dep,
                        customer,
                        {"adult": op[1]},
                        clock,
                        source="sms",
                        hold_hours=op[2],
                    )
                elif kind in ("confirm", "cancel"):
                    rows = list(
                        session.scalars(
                            select(Booking)
                            .where(Booking.departure_id == dep.id)
                            .order_by(Booking.id)
                        )
                    )
                    if rows:
                        target = rows[op[1] % len(rows)]
                        if kind == "confirm":
                            bookings.confirm_booking(session, org, target, clock)
                        else:
                            bookings.cancel_and_free_seats(
                                session, org, target, clock, reason="property test"
                            )
                elif kind == "join":
                    customer = make_customer(session, org, f"+1202555{next(_phones):04d}", clock)
                    waitlist.join_waitlist(
                        session, org, dep, customer, {"adult": op[1]}, clock, source="sms"
                    )
                elif kind in ("accept", "decline"):
                    entries = waitlist.queue(session, dep.id)
                    if entries:
                        entry = entries[op[1] % len(entries)]
                        if kind == "accept":
                            waitlist.accept_offer(session, org, entry, clock)
                        else:
                            waitlist.decline_offer(session, org, entry, clock)
                elif kind == "wait":
                    clock += timedelta(minutes=op[1])
                    sweep(session, clock)
                elif kind == "capacity":
                    dep.capacity += op[1]
                    waitlist.offer_free_seats(session, org, dep, clock)
        except ServiceError:
            pass  # refusals are expected; they must leave nothing behind
        check_invariants(session, dep, clock)
    session.rollback()
