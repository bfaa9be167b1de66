"""What a reply in a given language looks like, for the language tests: no sentence of the
English templates, and pieces of that language's own catalog."""

from __future__ import annotations

import re
import string
from functools import cache

from babel.messages.pofile import read_po

from services.i18n import TRANSLATIONS_DIR

LANGUAGES = ("pt", "es", "fr", "de")
_FIELDS = re.compile(r"\{[^}]*\}")


def _pieces(text: str, words: int = 3) -> list[str]:
    """A template's literal runs of some words or more (what a placeholder cannot fill)."""
    runs = (run.strip(' \n.,;:!?()–-"“”«»„') for run in _FIELDS.split(text))
    return [run for run in runs if len(run.split()) >= words]


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value or () if v)  # type: ignore[attr-defined]


@cache
def catalog(language: str) -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale=language) if m.id}


@cache
def english_pieces() -> frozenset[str]:
    """Every English template run that every translation rewords."""
    pieces: set[str] = set()
    for msgid in catalog("pt"):
        for text in _strings(msgid):
            for piece in _pieces(text):
                translated = (t for lang in LANGUAGES for t in _strings(catalog(lang)[msgid]))
                if not any(piece in t for t in translated):
                    pieces.add(piece)
    return frozenset(pieces)


@cache
def own_pieces(language: str) -> frozenset[str]:
    """The language's translated runs that no other language (English included) has."""
    others = [
        t
        for lang in LANGUAGES
        if lang != language
        for v in catalog(lang).values()
        for t in _strings(v)
    ]
    others += [t for msgid in catalog(language) for t in _strings(msgid)]
    pieces = {p for v in catalog(language).values() for t in _strings(v) for p in _pieces(t, 2)}
    return frozenset(p for p in pieces if not any(p in other for other in others))


def english_in(reply: str) -> list[str]:
    return sorted(p for p in english_pieces() if p in reply)


@cache
def whole_sentences(language: str) -> frozenset[str]:
    """The language's translations that have no placeholder: "De nada! 😊"."""
    return frozenset(
        t.strip() for v in catalog(language).values() for t in _strings(v) if "{" not in t
    )


def spoken_in(reply: str, language: str) -> bool:
    """The reply has a sentence of the language's catalog and none of the English ones."""
    if english_in(reply):
        return False
    return reply.strip() in whole_sentences(language) or any(
        p in reply for p in own_pieces(language)
    )


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
