"""Booking references, option numbers, e-mail addresses and phone numbers."""

from __future__ import annotations

import re

import phonenumbers

from intents.entities import Entity
from intents.entities.numbers import ORDINALS
from services.phones import InvalidPhone, normalize_phone

_F = re.IGNORECASE
# The reference alphabet has no 0/O or 1/I/L (services/references.py).
REF_RE = re.compile(r"\b(BK|LD|QT)[\s\-#]?([2-9A-HJ-KM-NP-Z]{5})\b", _F)
OPTION_RE = re.compile(
    r"^\s*(?:(?:option|opt|number|no\.?|num|#)\s*)?(\d{1,2})\s*(?:[.)!]|please|pls|plz|thanks)?\s*$"
    r"|\b(?:option|opt|number|#)\s*(\d{1,2})\b"
    r"|\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\s+(?:one|option|date|"
    r"departure|time|slot)\b|^\s*(first|second|third|last)\s+(?:one\s+)?(?:please|pls)?\s*$",
    _F,
)
# "the next one", "earliest date", "first available", "whichever is soonest": the soonest of
# the departures listed, which is option 1 (lists go by date). Not "the next day", "next
# time", "next saturday": those are days.
SOONEST_RE = re.compile(
    r"\b(?:next|nearest|soonest|earliest|first)\s+(?:available|possible|open)\b"
    r"|\b(?:the\s+)?(?:next|nearest|soonest|earliest)\s+(?:one|date|departure|slot|opening)\b"
    r"|\b(?:whichever|whatever)(?:\s+one)?(?:\s+is|'s)?\s+(?:soonest|earliest|sooner|first)\b"
    r"|^\W*(?:ok\W*)?(?:the\s+)?(?:earliest|soonest)(?:\s+(?:one|please|pls|plz))?\W*$",
    _F,
)
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")


def extract_refs(text: str) -> list[Entity]:
    return [
        Entity("booking_ref", f"{m.group(1).upper()}-{m.group(2).upper()}", m.start(), m.end())
        for m in REF_RE.finditer(text)
    ]


def extract_option(text: str) -> list[Entity]:
    m = OPTION_RE.search(text)
    if not m:
        return []
    for group in (1, 2):
        if m.group(group):
            value = int(m.group(group))
            return (
                [Entity("option", value, m.start(group), m.end(group))] if 0 < value <= 20 else []
            )
    word = (m.group(3) or m.group(4)).lower()
    return [Entity("option", ORDINALS[word], m.start(), m.end())]


def extract_soonest(text: str) -> list[Entity]:
    """ "the next date", "whichever is soonest": option 1, the soonest listed."""
    m = SOONEST_RE.search(text)
    return [Entity("option", 1, m.start(), m.end())] if m else []


def extract_email(text: str) -> list[Entity]:
    m = EMAIL_RE.search(text)
    return [Entity("email", m.group(0).lower(), m.start(), m.end())] if m else []


def extract_phones(text: str, region: str | None) -> list[Entity]:
    if sum(c.isdigit() for c in text) < 7:
        return []
    found = []
    for match in phonenumbers.PhoneNumberMatcher(
        text, region or "US", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        try:
            e164 = normalize_phone(match.raw_string, region)
        except InvalidPhone:
            continue
        found.append(Entity("phone", e164, match.start, match.end))
    return found
