"""Runs every extractor over a message and resolves overlaps."""

from __future__ import annotations

from intents.entities import Entity, ParseContext, dates, foreign, misc, party
from intents.entities.tours import match_tour


def extract_entities(text: str, ctx: ParseContext) -> list[Entity]:
    found: list[Entity] = []
    tour = match_tour(text, ctx.tours)
    if tour:
        found.append(Entity("tour", tour[0], tour[1], tour[2]))
    refs = misc.extract_refs(text)
    found += refs
    words = foreign.patterns(ctx.language)
    if words is not None:
        return _in_language(text, ctx, words, found)
    found_dates = [d for d in dates.extract_dates(text, ctx) if not _overlaps(d, found)]
    if not found_dates:  # "el domingo" before the customer's language is known
        found_dates = [
            d for d in foreign.weekday_in_any_language(text, ctx) if not _overlaps(d, found)
        ]
    # "31 February": no date, said as one; nothing else may read its numbers.
    impossible = [d for d in found_dates if d.entity == "impossible_date"][:1]
    found += impossible
    found_dates = [d for d in found_dates if d.entity == "date"]
    ranges = dates.extract_date_range(text, ctx, found_dates)
    found += ranges
    # The first date mentioned is the one meant, unless it is part of a range.
    found += [d for d in found_dates if not _overlaps(d, ranges)][:1]
    found += dates.extract_month(text, ctx, found_dates + ranges + impossible)
    times = [t for t in dates.extract_time(text) if not _overlaps(t, found)]
    found += times
    # "this evening" is a date and a part of the day at once.
    found += [p for p in dates.extract_daypart(text) if not times]
    found += misc.extract_email(text)
    found += [p for p in misc.extract_phones(text, ctx.region) if not _overlaps(p, found)]
    found += [p for p in party.extract(text) if not _overlaps(p, found, strict=True)]
    options = misc.extract_option(text) or _soonest(misc.extract_soonest(text), found)
    # "the earliest one" is both: the soonest of a list, the earliest time of a day.
    not_dayparts = [e for e in found if e.entity != "daypart"]
    found += [o for o in options if not _overlaps(o, not_dayparts, strict=True)]
    return sorted(found, key=lambda e: (e.start, e.entity))


# What makes "the next date" a question rather than a pick from the list: "what's the next
# date for the everest trek?", "the next available date in march?".
_NAMES_ITS_OWN = frozenset({"tour", "date", "date_range", "month", "impossible_date"})


def _soonest(soonest: list[Entity], found: list[Entity]) -> list[Entity]:
    """ "the next one" as a pick (option 1) only when nothing else is named."""
    return [] if any(e.entity in _NAMES_ITS_OWN for e in found) else soonest


def _in_language(
    text: str, ctx: ParseContext, words: foreign.Patterns, found: list[Entity]
) -> list[Entity]:
    """The same steps with the language's own words (intents/entities/foreign.py)."""
    found_dates = [d for d in foreign.extract_dates(text, ctx, words) if not _overlaps(d, found)]
    ranges = [r for r in foreign.extract_date_range(text, ctx, words) if not _overlaps(r, found)]
    found += ranges
    found += [d for d in found_dates if not _overlaps(d, ranges)][:1]
    found += foreign.extract_month(text, ctx, words, found_dates + ranges)
    found += [t for t in foreign.extract_time(text, words) if not _overlaps(t, found)]
    found += misc.extract_email(text)
    found += [p for p in misc.extract_phones(text, ctx.region) if not _overlaps(p, found)]
    found += [p for p in foreign.extract_party(text, words) if not _overlaps(p, found, strict=True)]
    options = foreign.extract_option(text, words) or _soonest(
        foreign.extract_soonest(text, words), found
    )
    found += [o for o in options if not _overlaps(o, found, strict=True)]
    return sorted(found, key=lambda e: (e.start, e.entity))


def _overlaps(candidate: Entity, taken: list[Entity], strict: bool = False) -> bool:
    """Whether the candidate's span is already used by another entity. Party counts may
    share a span with each other (party_size covers "2 adults 2 kids"), not with dates."""
    for other in taken:
        if other.start < candidate.end and candidate.start < other.end:
            if strict and other.entity in ("adults", "children", "party_size"):
                continue
            return True
    return False
