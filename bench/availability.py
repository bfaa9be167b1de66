"""Benchmark: availability search over a large catalog, and holds/second on one hot
departure under 8 concurrent processes. Prints figures; asserts nothing.

    python -m bench.availability [--departures 10000] [--bookings 200000] [--seconds 10]

Uses its own PostgreSQL database (tourbot_bench on BENCH_PG_SERVER), rebuilt each run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from bench import pct, rebuild_database
from models import (
    Booking,
    BookingStatus,
    Customer,
    Departure,
    Organization,
    OrganizationNumber,
    PriceTier,
    Tour,
)
from models.db import make_engine, make_session_factory
from services import availability
from services.customers import get_or_create_customer
from services.inventory import NotEnoughSeats, hold_seats

DB = "tourbot_bench"
NOW = datetime(2027, 1, 1, tzinfo=UTC)
TOURS = 20


def populate(url: str, n_departures: int, n_bookings: int) -> None:
    rng = random.Random(7)
    engine = make_engine(url)
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Organization).returning(Organization.id),
            [
                {
                    "slug": "bench",
                    "name": "Bench Tours",
                    "timezone": "Asia/Kathmandu",
                    "currency": "USD",
                    "ops_phones": [],
                    "settings_json": {},
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        ).scalar_one()
        conn.execute(
            insert(OrganizationNumber),
            [{"organization_id": org_id, "channel": "sms", "phone": "+15005550006"}],
        )
        tour_ids = (
            conn.execute(
                insert(Tour).returning(Tour.id, sort_by_parameter_order=True),
                [
                    {
                        "organization_id": org_id,
                        "slug": f"tour-{i}",
                        "name": f"Tour {i}",
                        "aliases": [],
                        "code_prefix": f"T{i:02d}",
                        "duration_minutes": 180,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(TOURS)
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(
            insert(PriceTier),
            [
                {
                    "tour_id": t,
                    "code": code,
                    "label": code.title(),
                    "price_minor": price,
                    "position": pos,
                }
                for t in tour_ids
                for pos, (code, price) in enumerate([("adult", 4900), ("child", 2900)])
            ],
        )
        per_tour = n_departures // TOURS
        deps = []
        for t_index, tour_id in enumerate(tour_ids):
            for k in range(per_tour):
                start = NOW + timedelta(days=1 + k * 365 / per_tour, hours=t_index % 10)
                deps.append(
                    {
                        "organization_id": org_id,
                        "tour_id": tour_id,
                        "code": f"T{t_index:02d}-{k:05d}",
                        "starts_at": start,
                        "ends_at": start + timedelta(hours=3),
                        "capacity": 30,
                        "status": "open",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        dep_ids = (
            conn.execute(
                insert(Departure).returning(Departure.id, sort_by_parameter_order=True), deps
            )
            .scalars()
            .all()
        )
        customer_ids = (
            conn.execute(
                insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                [
                    {
                        "organization_id": org_id,
                        "phone": f"+1202{i:07d}",
                        "opted_out": False,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(50_000)
                ],
            )
            .scalars()
            .all()
        )
        statuses = [BookingStatus.CONFIRMED] * 7 + [
            BookingStatus.HELD,
            BookingStatus.CANCELLED,
            BookingStatus.EXPIRED,
        ]
        rows: list[dict[str, Any]] = []
        made = 0
        per_dep = n_bookings // len(dep_ids)
        for dep_id in dep_ids:
            for _ in range(per_dep):
                status = rng.choice(statuses)
                rows.append(
                    {
                        "organization_id": org_id,
                        "reference": f"BK-{made:07d}",
                        "customer_id": rng.choice(customer_ids),
                        "departure_id": dep_id,
                        "status": status,
                        "source": "sms",
                        "party": {"adult": 1},
                        "seats": 1,
                        "currency": "USD",
                        "lines": [],
                        "total_minor": 4900,
                        "discount_minor": 0,
                        "deposit_minor": 1470,
                        "paid_minor": 0,
                        "hold_expires_at": NOW + timedelta(hours=rng.choice([-1, 12]))
                        if status == "held"
                        else None,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
                made += 1
            if len(rows) >= 20_000:
                conn.execute(insert(Booking), rows)
                rows = []
        if rows:
            conn.execute(insert(Booking), rows)
        conn.execute(text("ANALYZE"))
    engine.dispose()


def bench_search(url: str, runs: int) -> None:
    factory = make_session_factory(make_engine(url))
    rng = random.Random(11)
    with factory() as s:
        org = s.scalar(select(Organization))
        tours = list(s.scalars(select(Tour)))
        cases = {
            "one tour, 7 days, party of 2+2": lambda: availability.search(
                s,
                org,
                NOW,
                tour=rng.choice(tours),
                date_from=(d := date(2027, 1, 1) + timedelta(rng.randrange(350))),
                date_to=d + timedelta(days=6),
                party={"adult": 2, "child": 2},
            ),
            "all tours, 1 day, party of 2": lambda: availability.search(
                s,
                org,
                NOW,
                date_from=(d := date(2027, 1, 1) + timedelta(rng.randrange(360))),
                date_to=d,
                party={"adult": 2},
            ),
            "one tour, 30 days, first 3": lambda: availability.search(
                s,
                org,
                NOW,
                tour=rng.choice(tours),
                date_from=(d := date(2027, 1, 1) + timedelta(rng.randrange(330))),
                date_to=d + timedelta(days=29),
                party={"adult": 2},
                limit=3,
            ),
        }
        for name, call in cases.items():
            call()  # warm the plan cache
            timings = []
            found = 0
            for _ in range(runs):
                t0 = time.perf_counter()
                found += len(call())
                timings.append((time.perf_counter() - t0) * 1000)
                s.rollback()
            print(
                f"  {name:36s} median {statistics.median(timings):6.2f} ms"
                f"   p95 {pct(timings, 95):6.2f} ms"
                f"   ({runs} runs, {found / runs:.1f} departures found on average)"
            )


def _hold_worker(url: str, worker: int, seconds: float, start: Any, out: Any) -> None:
    try:
        out.put(_hold_loop(url, worker, seconds, start))
    except Exception as exc:  # report instead of leaving the parent waiting
        out.put(exc)


def _hold_loop(url: str, worker: int, seconds: float, start: Any) -> tuple[int, int]:
    factory = make_session_factory(make_engine(url, pool_size=1))
    held = refused = 0
    start.wait()
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        with factory() as s:
            org = s.scalar(select(Organization))
            dep = s.scalar(select(Departure).where(Departure.code == "HOT"))
            customer, _ = get_or_create_customer(s, org, f"+1555{worker:02d}{i:05d}", NOW)
            try:
                hold_seats(s, org, dep, customer, {"adult": 1}, NOW, source="sms")
                s.commit()
                held += 1
            except NotEnoughSeats:
                s.rollback()
                refused += 1
    return held, refused


def bench_holds(url: str, processes: int, seconds: float) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        org_id = conn.scalar(select(Organization.id))
        tour_id = conn.scalar(select(Tour.id).limit(1))
        conn.execute(
            insert(Departure),
            [
                {
                    "organization_id": org_id,
                    "tour_id": tour_id,
                    "code": "HOT",
                    "starts_at": NOW + timedelta(days=30),
                    "ends_at": NOW + timedelta(days=30, hours=3),
                    "capacity": 1_000_000,
                    "status": "open",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
    engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(processes), ctx.Queue()
    procs = [
        ctx.Process(target=_hold_worker, args=(url, w, seconds, start, out))
        for w in range(processes)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        raise SystemExit(f"hold workers failed: {errors}")
    held = sum(r[0] for r in results)
    print(
        f"  {processes} processes for {seconds:.0f} s on one departure: {held} holds, "
        f"{held / seconds:.0f} holds/s "
        "(each: customer upsert, row lock, recount, insert, timeline, commit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--departures", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()

    t0 = time.perf_counter()
    url = rebuild_database(DB)
    populate(url, args.departures, args.bookings)
    print(
        f"Built {args.departures} departures and {args.bookings} bookings in PostgreSQL "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    print("Availability search:")
    bench_search(url, args.runs)
    print("Holds on one hot departure:")
    bench_holds(url, args.processes, args.seconds)


if __name__ == "__main__":
    main()
