"""Deterministic entity extractors shared by every backend. Each returns Entity values
already normalised (slugs, ISO dates, integers, E.164), with character offsets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intents.entities.tours import TourVocabulary


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str | int
    start: int
    end: int
    extractor: str = "builtin"

    def as_dict(self) -> dict[str, object]:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "extractor": self.extractor,
        }


@dataclass(frozen=True)
class ParseContext:
    """What extraction needs to know about the organization: its local "now", its tours,
    the day/month order of numeric dates and the default phone region."""

    now: datetime
    tours: TourVocabulary
    date_order: str = "DMY"
    region: str | None = None
    # The message's language: which words the extractors read ("sábado", "deux adultes").
    language: str = "en"


__all__ = ["Entity", "ParseContext", "TourVocabulary"]
