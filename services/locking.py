"""Serialises everything that changes the seats of a departure.

PostgreSQL: SELECT ... FOR NO KEY UPDATE on the departure rows, always in id order so
that two transactions locking overlapping sets cannot deadlock. NO KEY UPDATE rather than
UPDATE: it serialises seat changes just the same, but does not block the foreign-key
checks of rows that merely refer to the departure (a lead, a message, a timeline event).
The lock lasts until the caller's commit or rollback, and every count taken after it sees
all committed claims (READ COMMITTED takes a fresh snapshot per statement). SQLite: the
engine begins every transaction with BEGIN IMMEDIATE (models/db.py), which already
serialises writers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Departure


def lock_departures(session: Session, departure_ids: Iterable[int]) -> dict[int, Departure]:
    ids = sorted(set(departure_ids))
    if not ids:
        return {}
    stmt = (
        select(Departure)
        .where(Departure.id.in_(ids))
        .order_by(Departure.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {d.id: d for d in session.scalars(stmt)}


def lock_departure(session: Session, departure: Departure) -> Departure:
    return lock_departures(session, [departure.id])[departure.id]
