"""Tour names matched against the organization's tours and aliases, forgiving typos
("sunset tur", "evrest base camp") with rapidfuzz."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

WORD = re.compile(r"[A-Za-z0-9']+")
# Words that never make a tour mention on their own.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "for",
        "of",
        "on",
        "in",
        "at",
        "and",
        "or",
        "is",
        "it",
        "we",
        "i",
        "me",
        "my",
        "you",
        "your",
        "do",
        "does",
        "can",
        "pls",
        "please",
        "tour",
        "tours",
        "trip",
        "trek",
        "walk",
        "hi",
        "hey",
        "this",
        "that",
        "there",
        "how",
        "what",
        "when",
        "much",
        "any",
        "some",
    }
)
MAX_WORDS = 150


@dataclass(frozen=True)
class TourVocabulary:
    """(phrase, slug) pairs: each tour's name, slug words and aliases, lower-cased."""

    phrases: tuple[tuple[str, str], ...]

    @classmethod
    def from_tours(cls, tours: Iterable[tuple[str, str, Iterable[str]]]) -> TourVocabulary:
        """tours: (slug, name, aliases)."""
        pairs: dict[str, str] = {}
        for slug, name, aliases in tours:
            for phrase in (name, slug.replace("-", " "), *aliases):
                key = " ".join(WORD.findall(phrase.lower()))
                if key and key not in STOPWORDS:
                    pairs.setdefault(key, slug)
        return cls(tuple(pairs.items()))

    @property
    def keys(self) -> list[str]:
        return [p for p, _ in self.phrases]

    def slug_for(self, phrase: str) -> str:
        return dict(self.phrases)[phrase]


def _threshold(phrase: str) -> float:
    # Short aliases ("EBC") must match exactly; longer names forgive a typo or two.
    if len(phrase) <= 4:
        return 100
    if len(phrase) <= 7:
        return 88
    return 84


def match_tour(text: str, vocab: TourVocabulary) -> tuple[str, int, int] | None:
    """(slug, start, end) of the best tour mention, or None."""
    if not vocab.phrases:
        return None
    words = list(WORD.finditer(text))[:MAX_WORDS]
    keys = vocab.keys
    best: tuple[float, int, str, int, int] | None = None
    for size in range(min(4, len(words)), 0, -1):
        for i in range(len(words) - size + 1):
            window = words[i : i + size]
            phrase = " ".join(w.group(0).lower() for w in window)
            if all(w.group(0).lower() in STOPWORDS for w in window) or len(phrase) < 3:
                continue
            hit = process.extractOne(phrase, keys, scorer=fuzz.ratio, score_cutoff=80)
            if hit is None or hit[1] < _threshold(hit[0]):
                continue
            candidate = (hit[1], size, vocab.slug_for(hit[0]), window[0].start(), window[-1].end())
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return None if best is None else best[2:]
