"""Short human references such as BK-7K3Q9 that a customer can read out on the phone."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models.db import insert_unless_exists

# No 0/O, 1/I/L: references are read aloud and typed on phones.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 5

T = TypeVar("T")


def new_reference(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def insert_with_reference(
    session: Session, prefix: str, build: Callable[[str], T], attempts: int = 8
) -> T:
    """Insert the row build(reference) makes (a model with its columns set) and return it
    as stored, retrying with a fresh reference on the rare collision. ON CONFLICT keeps a
    collision from aborting the caller's transaction, without a savepoint."""
    for _ in range(attempts):
        row = build(new_reference(prefix))
        state = inspect(row)
        values = {
            attr.key: getattr(row, attr.key)
            for attr in state.mapper.column_attrs
            if attr.key in state.dict
        }
        stored = insert_unless_exists(session, type(row), values, conflict_on=["reference"])
        if stored is not None:
            return stored
    raise RuntimeError(f"could not allocate a unique {prefix} reference")
