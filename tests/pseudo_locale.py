"""A made-up translation of every sentence the code says, to catch English that does not go
through Voice: each msgstr is its msgid with the letters outside the {placeholders}
accented and the whole wrapped in ⟦ ⟧, so "Hold expires: {when}" reads
"⟦Ĥóļð éxƥîŕéś: {when}⟧". A reply in that language is spoken through the catalog when:

- nothing but digits, punctuation, spaces and emoji is left once the marked parts are
  removed (a sentence built outside Voice is left over), and
- no English word of any sentence appears anywhere, placeholders included (a value built
  in English, "for 24 hours", would sit unnoticed inside a marked sentence).

The data (tour names, a meeting point, people's names) is the organization's own words and
stays as it is; links and references are not words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from cli import messages
from services.i18n import DOMAIN

OPEN, CLOSE = "⟦", "⟧"
_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "áƀçðéƒĝĥîĵķļɱñóƥǫŕśţúʋŵxýžÁƁÇÐÉƑĜĤÎĴĶĻḾÑÓƤǪŔŚŢÚƲŴXÝŽ",
)
_PLACEHOLDER = re.compile(r"(\{[^{}]*\})")


def pseudo(text: str) -> str:
    """The sentence with its letters accented, its placeholders untouched, marked."""
    parts = _PLACEHOLDER.split(text)
    return (
        OPEN
        + "".join(p if _PLACEHOLDER.fullmatch(p) else p.translate(_ACCENTED) for p in parts)
        + CLOSE
    )


def write_catalog(folder: Path, language: str) -> Catalog:
    """Every sentence the code says now, pseudo-translated, as language's .po under folder."""
    catalog = Catalog(locale=language, domain=DOMAIN, charset="utf-8")
    catalog.fuzzy = False
    for message in messages.extract():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            catalog.add(message.id, tuple(pseudo(form) for form in message.id))
        else:
            catalog.add(message.id, pseudo(message.id))
    path = folder / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return catalog


def english_words(catalog: Catalog, allowed: Iterable[str]) -> frozenset[str]:
    """The words of every English sentence (four letters or more), less the data's own."""
    words: set[str] = set()
    for message in catalog:
        for form in message.id if isinstance(message.id, tuple) else [message.id]:
            bare = _PLACEHOLDER.sub(" ", form)
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", bare))
    spared = {w.lower() for text in allowed for w in re.findall(r"[A-Za-z]+", text)}
    return frozenset(words - spared)


_NOT_WORDS = re.compile(r"https?://\S+|\b[A-Z]{2}-[A-Z0-9]{5}\b|\b[A-Z]{2,}[A-Z0-9-]*\d\w*\b")


def english_in(text: str, english: frozenset[str]) -> list[str]:
    """The English words of the code's sentences in text (links and references aside)."""
    return sorted(
        {w for w in re.findall(r"[A-Za-z]{4,}", _NOT_WORDS.sub(" ", text)) if w.lower() in english}
    )


def unspoken(reply: str, english: frozenset[str]) -> list[str]:
    """What in a reply did not come through the catalog; empty when all of it did."""
    problems = []
    left = reply
    while True:  # innermost marked sentences first, so nested ones go too
        stripped = re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", "", left)
        if stripped == left:
            break
        left = stripped
    if any(ch.isalpha() for ch in left) or OPEN in left or CLOSE in left:
        problems.append(f"outside the catalog: {left.strip()!r}")
    if found := english_in(reply, english):
        problems.append(f"English words: {found}")
    return problems
