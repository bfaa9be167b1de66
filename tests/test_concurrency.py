"""Zero overbooking on PostgreSQL: 8 OS processes race for the last seats of a departure."""

from __future__ import annotations

import multiprocessing
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, BookingStatus
from services import bookings, inventory
from tests.concurrency_worker import try_holds
from tests.conftest import import_org
from tests.factories import departure, hold

PROCESSES = 8
ATTEMPTS = 15


def race(pg_url: str, code: str, seats: int, now: datetime) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")  # no connections inherited from this process
    start = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=try_holds,
            args=(pg_url, code, w, ATTEMPTS, seats, now.isoformat(), start, results),
        )
        for w in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return reports


@pytest.mark.parametrize("seats", [1, 2])
def test_eight_processes_never_oversell(
    pg_url: str, factory: sessionmaker[Session], now: datetime, seats: int
) -> None:
    with factory() as s:
        org = import_org(s, now)
        dep = departure(s, org, "EBC0315")  # capacity 12
        # 7 of 12 seats already sold: 5 left for 120 concurrent attempts.
        sold = hold(s, org, dep, "+12025559999", now, 7, source="admin")
        bookings.confirm_booking(s, org, sold, now)
        s.commit()

    reports = race(pg_url, "EBC0315", seats, now)

    failed = [f for r in reports for f in r["failed"]]
    assert failed == [], failed
    held = [ref for r in reports for ref in r["held"]]
    refused = [m for r in reports for m in r["refused"]]
    assert len(held) + len(refused) == PROCESSES * ATTEMPTS
    assert len(held) == 5 // seats  # exactly as many holds as fit, not one more
    assert all(m.startswith("Not enough seats") for m in refused)

    with factory() as s:
        taken = s.scalar(
            select(func.sum(Booking.seats)).where(
                Booking.status.in_([BookingStatus.HELD, BookingStatus.CONFIRMED])
            )
        )
        assert taken == 7 + seats * (5 // seats)
        assert taken <= 12
        dep = departure(s, org, "EBC0315")
        assert inventory.occupancy(s, dep, now).spots_left == 5 % seats
