"""Party sizes: "2 adults and 2 kids", "family of four", "3 pax", "just me", "for 3"."""

from __future__ import annotations

import re

from intents.entities import Entity
from intents.entities.numbers import NUMBER, to_int

ADULTS = r"(?:adults?|adlts?|grown[- ]?ups?|grownups)"
CHILDREN = (
    r"(?:kids?|children|child|childs|kiddos?|little ones|toddlers?|teens?|teenagers?|"
    r"minors?|infants?)"
)
PEOPLE = (
    r"(?:people|persons?|pax|guests?|travell?ers|ppl|peeps|folks|pple|participants|"
    r"hikers|trekkers|friends|members|adults and kids|of us|spots?|seats?|places?|tickets?|spaces?)"
)

PLAUSIBLE_PARTY = 99  # "for 15", "we are 4"
EXPLICIT_PARTY = 9999  # "250 people", "a group of 120"

_F = re.IGNORECASE
ADULT_RE = re.compile(rf"\b({NUMBER})\s*(?:x\s*)?{ADULTS}\b", _F)
CHILD_RE = re.compile(rf"\b({NUMBER})\s*(?:x\s*)?{CHILDREN}\b", _F)
PEOPLE_RE = re.compile(rf"\b({NUMBER})\s*(?:x\s*)?{PEOPLE}\b", _F)
GROUP_RE = re.compile(
    rf"\b(?:group|party|family|team|table|crew|total)\s+(?:of|for)\s+({NUMBER})\b", _F
)
WE_ARE_RE = re.compile(
    rf"\b(?:we\s*are|we're|were|we\s+r|there\s*(?:is|are|'s)|theres)\s+({NUMBER})\b", _F
)
FOR_RE = re.compile(
    rf"\bfor\s+({NUMBER})\b(?!\s*(?:days?|nights?|hours?|hrs?|h\b|mins?|minutes?|weeks?|months?|"
    rf"years?|yrs?|am|pm|o'?clock|:|\.\d|%|\$|usd|dollars?|st\b|nd\b|rd\b|th\b))",
    _F,
)
SOLO_RE = re.compile(
    r"\b(?:just|only)\s+(?:me|myself|1|one)\b|\b(?:by myself|on my own|solo|"
    r"alone|party of one)\b",
    _F,
)
PAIR_RE = re.compile(
    r"\b(?:me\s+and\s+my|my\s+\w+\s+and\s+i|me\s*\+\s*my)\s+"
    r"(?:wife|husband|partner|girlfriend|boyfriend|friend|mom|mum|dad|mother|"
    r"father|son|daughter|brother|sister|fiance|fiancee)\b|\b(?:a couple|the two of us|"
    r"both of us|two of us)\b",
    _F,
)


def _first(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return pattern.search(text)


def extract(text: str) -> list[Entity]:
    found: list[Entity] = []
    adults = _first(ADULT_RE, text)
    children = _first(CHILD_RE, text)
    if adults:
        found.append(Entity("adults", to_int(adults.group(1)), adults.start(1), adults.end(1)))
    if children:
        found.append(
            Entity("children", to_int(children.group(1)), children.start(1), children.end(1))
        )

    total, ambiguous = None, False
    for pattern in (PEOPLE_RE, GROUP_RE, WE_ARE_RE):
        match = _first(pattern, text)
        if match:
            total = Entity("party_size", to_int(match.group(1)), match.start(1), match.end(1))
            ambiguous = pattern is WE_ARE_RE  # "we are 30 minutes away"
            break
    if total is None and (adults or children):
        value = sum(e.value for e in found if isinstance(e.value, int))
        first, last = found[0], found[-1]
        total = Entity("party_size", value, min(first.start, last.start), max(first.end, last.end))
    if total is None:
        ambiguous = True  # "for 2025", "for 15": a year, a date, a price
        if match := _first(SOLO_RE, text):
            total = Entity("party_size", 1, match.start(), match.end())
        elif match := _first(PAIR_RE, text):
            total = Entity("party_size", 2, match.start(), match.end())
        elif match := _first(FOR_RE, text):
            total = Entity("party_size", to_int(match.group(1)), match.start(1), match.end(1))
    if total is not None:
        found.append(total)
    # "200 people" is a group to pass to sales, not a typo to drop; a bare number is
    # believed only in the range a party plausibly has.
    limit = PLAUSIBLE_PARTY if ambiguous else EXPLICIT_PARTY
    return [e for e in found if 0 < int(e.value) <= limit]
