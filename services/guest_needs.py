"""What the guests of a booking need: dietary, accessibility, pickup, and their names. Typed
by staff, or told in the chat (kept on the lead's notes in the customer's words, and
carried onto the booking when the seats are held, so the manifest shows them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from models import Booking

NOTE_LIMIT = 500
MAX_NAMES = 99
NAME_LIMIT = 120

# Words that put a piece of what the customer wrote under one need. Lower case; matched at
# the start of a word ("allerg" matches "allergic", "allergy").
_DIET = (
    "vegetarian",
    "vegan",
    "veggie",
    "allerg",
    "gluten",
    "coeliac",
    "celiac",
    "lactose",
    "dairy",
    "halal",
    "kosher",
    "nut",
    "peanut",
    "shellfish",
    "seafood",
    "pescatarian",
    "diet",
    "no meat",
    "no pork",
    "no beef",
    "epipen",
    "vegetariano",
    "végétarien",
    "vegetarisch",
)
_ACCESS = (
    "wheelchair",
    "mobility",
    "accessib",
    "walker",
    "crutch",
    "cane",
    "stroller",
    "pram",
    "pushchair",
    "blind",
    "deaf",
    "hearing",
    "can't walk",
    "cannot walk",
    "bad knee",
    "bad back",
    "pregnant",
    "elderly",
    "disab",
)
_PICKUP = (
    "pickup",
    "pick up",
    "pick-up",
    "pick us",
    "collect us",
    "hotel",
    "hostel",
    "guesthouse",
    "guest house",
    "lodge",
    "staying at",
    "we stay",
    "airbnb",
    "resort",
)

_CLAUSES = re.compile(r"[\n.;!?]+|,\s+(?=\w)")


@cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation per list, compiled once: every customer message is read for needs
    (bot/lead_capture.keep_needs), and a search per word cost 0.4 ms a message."""
    return re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, words)) + ")")


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    return _pattern(words).search(text.lower()) is not None


@dataclass(frozen=True)
class GuestNeeds:
    dietary: str | None = None
    accessibility: str | None = None
    pickup: str | None = None
    names: tuple[str, ...] = ()

    @classmethod
    def typed(
        cls,
        *,
        dietary: str | None = None,
        accessibility: str | None = None,
        pickup: str | None = None,
        names: str | None = None,
    ) -> GuestNeeds:
        """From a staff form: each note trimmed, names one per line (or comma separated)."""
        return cls(
            dietary=_note(dietary),
            accessibility=_note(accessibility),
            pickup=_note(pickup),
            names=parse_names(names or ""),
        )

    @property
    def empty(self) -> bool:
        return not (self.dietary or self.accessibility or self.pickup or self.names)

    def filled_from(self, other: GuestNeeds) -> GuestNeeds:
        """These needs, with what is missing taken from other (what the chat said)."""
        return GuestNeeds(
            dietary=self.dietary or other.dietary,
            accessibility=self.accessibility or other.accessibility,
            pickup=self.pickup or other.pickup,
            names=self.names or other.names,
        )


def _note(text: str | None) -> str | None:
    cleaned = " ".join((text or "").replace("\x00", "").split())[:NOTE_LIMIT]
    return cleaned or None


def parse_names(text: str) -> tuple[str, ...]:
    parts = re.split(r"[\n,;]+", text.replace("\x00", ""))
    names = [" ".join(p.split())[:NAME_LIMIT] for p in parts]
    return tuple(n for n in names if n)[:MAX_NAMES]


def from_notes(notes: str | None) -> GuestNeeds:
    """The needs a customer mentioned in what they wrote ("pickup from Hotel Yak, two of us
    are vegetarian"), each in their own words; a piece that names none is left out."""
    if not notes:
        return GuestNeeds()
    found: dict[str, list[str]] = {"dietary": [], "accessibility": [], "pickup": []}
    for clause in _CLAUSES.split(notes):
        clause = " ".join(clause.split())
        if not clause:
            continue
        if _mentions(clause, _DIET):
            found["dietary"].append(clause)
        if _mentions(clause, _ACCESS):
            found["accessibility"].append(clause)
        if _mentions(clause, _PICKUP):
            found["pickup"].append(clause)
    return GuestNeeds(
        dietary=_note("; ".join(dict.fromkeys(found["dietary"]))),
        accessibility=_note("; ".join(dict.fromkeys(found["accessibility"]))),
        pickup=_note("; ".join(dict.fromkeys(found["pickup"]))),
    )


def added(current: GuestNeeds, told: GuestNeeds) -> GuestNeeds:
    """current with what the customer has just told added to each need (a piece already
    there is not repeated); names are staff's to type."""

    def join(have: str | None, new: str | None) -> str | None:
        if not new or (have and new.lower() in have.lower()):
            return have
        return _note(f"{have}; {new}" if have else new)

    return GuestNeeds(
        dietary=join(current.dietary, told.dietary),
        accessibility=join(current.accessibility, told.accessibility),
        pickup=join(current.pickup, told.pickup),
        names=current.names,
    )


def of(booking: Booking) -> GuestNeeds:
    return GuestNeeds(
        dietary=booking.dietary_notes,
        accessibility=booking.accessibility_notes,
        pickup=booking.pickup_notes,
        names=tuple(booking.guest_names or ()),
    )


def apply(booking: Booking, needs: GuestNeeds) -> dict[str, object]:
    """Writes the needs onto the booking; returns what changed (field -> new value)."""
    changed: dict[str, object] = {}
    for field, value in (
        ("dietary_notes", needs.dietary),
        ("accessibility_notes", needs.accessibility),
        ("pickup_notes", needs.pickup),
        ("guest_names", list(needs.names)),
    ):
        if (getattr(booking, field) or None) != (value or None):
            setattr(booking, field, value)
            changed[field] = value
    return changed
