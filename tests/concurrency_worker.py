"""Runs in a separate OS process (spawned by test_concurrency.py): tries many holds on one
departure as fast as it can and reports what happened to each attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from models import Departure, Organization
from models.db import make_engine, make_session_factory
from services.customers import get_or_create_customer
from services.inventory import NotEnoughSeats, hold_seats


def try_holds(
    url: str,
    code: str,
    worker: int,
    attempts: int,
    seats: int,
    now_iso: str,
    start: Any,
    results: Any,
) -> None:
    engine = make_engine(url, pool_size=1)
    factory = make_session_factory(engine)
    now = datetime.fromisoformat(now_iso)
    held: list[str] = []
    refused: list[str] = []
    failed: list[str] = []
    start.wait()  # every process starts together
    for attempt in range(attempts):
        session = factory()
        try:
            org = session.scalar(select(Organization))
            dep = session.scalar(select(Departure).where(Departure.code == code))
            customer, _ = get_or_create_customer(
                session, org, f"+1202555{worker:02d}{attempt:02d}", now
            )
            booking = hold_seats(session, org, dep, customer, {"adult": seats}, now, source="sms")
            session.commit()
            held.append(booking.reference)
        except NotEnoughSeats as exc:
            session.rollback()
            refused.append(exc.message)
        except Exception as exc:  # anything else is a defect the test reports
            session.rollback()
            failed.append(f"{type(exc).__name__}: {exc}")
        finally:
            session.close()
    engine.dispose()
    results.put({"worker": worker, "held": held, "refused": refused, "failed": failed})
