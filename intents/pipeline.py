"""One message in, Rasa's /model/parse shape out: the intent from the configured backend,
the entities from the shared extractors, whichever backend classified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from intents.builtin import OUT_OF_SCOPE, Classification
from intents.entities import Entity, ParseContext, dates, misc
from intents.entities.numbers import WORDS
from intents.entities.tours import match_tour
from intents.extract import extract_entities

FALLBACK = "nlu_fallback"
MAX_CHARS = 2000  # longer messages are read up to here; every step stays bounded
DEFAULT_THRESHOLD = 0.3


class Backend(Protocol):
    name: str

    def classify(self, text: str, tour_spans: list[tuple[int, int]]) -> Classification: ...


@dataclass
class ParseResult:
    text: str
    intent: str
    confidence: float
    entities: list[Entity] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)
    backend: str = "builtin"

    def entity(self, name: str) -> Any:
        return next((e.value for e in self.entities if e.entity == name), None)

    def as_rasa(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 4)},
            "entities": [e.as_dict() for e in self.entities],
            "intent_ranking": [
                {"name": n, "confidence": round(c, 4)} for n, c in self.ranking[:10]
            ],
        }


def clean(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return text.replace("\x00", "")[:MAX_CHARS]


class NLU:
    """backend: the English classifier (built-in or Rasa); others: one per further
    language, trained on intents/data/<language>/nlu.yml. A language without its own
    classifier is read by the English one."""

    def __init__(
        self,
        backend: Backend,
        threshold: float = DEFAULT_THRESHOLD,
        others: dict[str, Backend] | None = None,
    ) -> None:
        self.backend = backend
        self.threshold = threshold
        self.backends: dict[str, Backend] = {"en": backend, **(others or {})}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.backends)

    def parse(self, text: object, ctx: ParseContext) -> ParseResult:
        """ctx.language says which language's words and classifier read the message."""
        message = clean(text)
        if not message.strip():
            return ParseResult(message, FALLBACK, 1.0, [], [(FALLBACK, 1.0)], "rules")
        entities = extract_entities(message, ctx)
        tour_spans = [(e.start, e.end) for e in entities if e.entity == "tour"]
        backend = self.backends.get(ctx.language, self.backend)
        result = backend.classify(message, tour_spans)
        entities += _normalise_foreign(result.entities, entities, message, ctx)
        ranking = [
            (FALLBACK if name == OUT_OF_SCOPE else name, conf) for name, conf in result.ranking
        ]
        intent, confidence = ranking[0]
        if confidence < self.threshold:
            intent = FALLBACK
        return ParseResult(
            message,
            intent,
            confidence,
            sorted(entities, key=lambda e: e.start),
            ranking,
            result.backend,
        )


def _normalise_foreign(
    raw: list[dict[str, Any]], have: list[Entity], text: str, ctx: ParseContext
) -> list[Entity]:
    """Entities another backend found that our extractors did not, normalised the same way."""
    known = {e.entity for e in have}
    out: list[Entity] = []
    for item in raw:
        name, start, end = item.get("entity"), item.get("start"), item.get("end")
        if (
            not isinstance(name, str)
            or name in known
            or not isinstance(start, int)
            or not isinstance(end, int)
            or not 0 <= start < end
        ):
            continue
        surface = text[start:end]
        value: Any = None
        if name == "tour":
            hit = match_tour(surface, ctx.tours)
            value = hit[0] if hit else None
        elif name == "date":
            found = dates.extract_dates(surface, ctx)
            value = found[0].value if found else None
        elif name in ("party_size", "adults", "children", "option"):
            word = surface.strip().lower()
            value = int(word) if word.isdigit() else WORDS.get(word)
        elif name == "booking_ref":
            refs = misc.extract_refs(surface)
            value = refs[0].value if refs else None
        if value is not None:
            out.append(Entity(name, value, start, end, extractor="rasa"))
            known.add(name)
    return out
