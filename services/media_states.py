"""The lifecycle of a file a customer sent (services/media.py): fetched once, or marked
with why not; never fetched again after either."""

from __future__ import annotations

from datetime import datetime

from models import MediaStatus as F
from models import MessageMedia
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[F, frozenset[F]] = {
    # A failed try that may help again stays pending (with its next try's time).
    F.PENDING: frozenset({F.STORED, F.FAILED}),
    F.STORED: frozenset(),
    F.REFUSED: frozenset(),
    F.FAILED: frozenset(),
}


class MediaTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(F, ALLOWED, MediaTransitionError)


def transition(row: MessageMedia, to: F, now: datetime) -> None:
    LIFECYCLE.move(row, f"File {row.id}", to)
    row.updated_at = now
