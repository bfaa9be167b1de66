"""What every status change has in common: a lifecycle's table of allowed moves, and the one
place a status is written. Each lifecycle keeps its table and its transition function, which
also writes the timeline, in a module of its own (services/*_states.py; leads in
services/leads.py); tests/test_status_writes.py fails on a status written anywhere else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from models.enums import status_label
from services.errors import ServiceError

S = TypeVar("S", bound=StrEnum)


class TransitionRefused(ServiceError):
    """A status change its lifecycle does not allow. Each lifecycle has its own subclass."""

    http_status = 409


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    statuses: type[S]
    # For each status, the statuses it may become. A status lists itself only where staying
    # is an event of its own (a message's next failed attempt is RETRYING again).
    moves: Mapping[S, frozenset[S]]
    refused: type[TransitionRefused]

    def __post_init__(self) -> None:
        # A status added to the enum without deciding its moves would fail at the first
        # move, in production: fail at import instead.
        missing = set(self.statuses) - set(self.moves)
        if missing:
            raise ValueError(f"{self.statuses.__name__}: no moves for {sorted(missing)}")

    def allows(self, current: str, to: S) -> bool:
        return to in self.moves[self.statuses(current)]

    def check(self, name: str, current: str, to: S) -> S:
        """The current status as the enum; refused() with a message for people if the table
        does not allow the move. `name` says which object, e.g. "Booking BK-7K2Q9"."""
        now = self.statuses(current)
        if to not in self.moves[now]:
            raise self.refused(
                f"{name} is {status_label(now)} and cannot become {status_label(to)}."
            )
        return now

    def move(self, obj: Any, name: str, to: S) -> S:
        """Checks and writes obj.status; returns the status it had."""
        previous = self.check(name, obj.status, to)
        obj.status = to
        return previous
