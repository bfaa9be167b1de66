"""Short human references such as BK-7K3Q9 that a customer can read out on the phone."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

# No 0/O, 1/I/L: references are read aloud and typed on phones.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 5

T = TypeVar("T")


def new_reference(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def insert_with_reference(
    session: Session, prefix: str, build: Callable[[str], T], attempts: int = 8
) -> T:
    """Add the row build(reference) makes, retrying with a fresh reference on the rare
    collision. A savepoint keeps a collision from rolling back the caller's transaction."""
    for _ in range(attempts):
        row = build(new_reference(prefix))
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a unique {prefix} reference")
