"""The evaluation dialogues (tests/dialogues/*.yml): reading them.

Each file is a Jinja template (dates relative to the day it is played, see `dates`) that
renders to a YAML list of conversations:

    - id: food-lunch-included          # unique, kebab-case; the ratchet file lists ids
      class: knowledge                 # one of CLASSES
      from: "+447700900101"            # the customer's number (default: one per dialogue)
      name: Tom                        # WhatsApp profile name (optional)
      channel: whatsapp                # or sms
      given:                           # optional: bookings the customer already has
        - {tour: food-tour, date: "{{ sat }}", time: "11:00", party: {adult: 2}, paid: deposit}
      turns:
        - say: "is lunch included on the food tour?"    # or media: [image/jpeg] (+ say)
          expect: [<check>, ...]       # true of this turn's reply and the database after it
      end: [<check>, ...]              # true once every turn is played

The checks are in dialogues/checks.py. In a line or a check, {ref} is the reference of the
first given booking (the way the customer typed it: {ref_lower}).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import yaml

from config import PROJECT_ROOT
from services.phones import InvalidPhone, normalize_phone

DIALOGUE_DIR = PROJECT_ROOT / "tests" / "dialogues"
RATCHET_FILE = DIALOGUE_DIR / "met.txt"
WORLD_TIMEZONE = ZoneInfo("Asia/Kathmandu")

# The classes of issue 17, and the basic journeys.
CLASSES = (
    "knowledge",
    "several-acts",
    "existing-booking",
    "party",
    "time-of-day",
    "dates",
    "complaint",
    "handoff",
    "media",
    "journey",
    "waitlist",
    "cancel",
)


class ScriptError(Exception):
    """A dialogue file that cannot be played; the message names the file and dialogue."""


@dataclass
class Check:
    kind: str
    arg: Any
    why: str | None = None
    # A check whose failure fails the whole dialogue (a harmful act, not a weak answer).
    critical: bool = False

    def describe(self) -> str:
        if self.why:
            return self.why
        return f"{self.kind}: {self.arg}"


@dataclass
class Line:
    say: str
    media: list[str] = field(default_factory=list)  # content types, e.g. image/jpeg
    expect: list[Check] = field(default_factory=list)


@dataclass
class Dialogue:
    id: str
    cls: str
    phone: str
    lines: list[Line]
    end: list[Check] = field(default_factory=list)
    name: str | None = None
    whatsapp: bool = True
    given: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""  # file name

    @property
    def checks(self) -> int:
        return sum(len(line.expect) for line in self.lines) + len(self.end)


def today() -> date:
    return datetime.now(WORLD_TIMEZONE).date()


def first_weekday_from(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def dates(now: date | None = None) -> dict[str, Any]:
    """What the templates may use. day(n) is a date n days ahead; sat/sun/tue are the first
    Saturday/Sunday/Tuesday at least two days ahead (so "saturday the 12th" is never
    today or tomorrow); the filters write a date the ways people type one."""
    base = now or today()
    soon = base + timedelta(days=2)
    return {
        "today": base,
        "day": lambda n: base + timedelta(days=n),
        "code": lambda n: (base + timedelta(days=n)).strftime("%m%d"),
        "sat": first_weekday_from(soon, 5),
        "sun": first_weekday_from(soon, 6),
        "tue": first_weekday_from(soon, 1),
        "wed": first_weekday_from(soon, 2),
    }


def _nth(d: date) -> str:
    n = d.day
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


FILTERS = {
    "plus": lambda d, n: d + timedelta(days=n),  # {{ sat|plus(1) }}: the Sunday after
    "dm": lambda d: f"{d.day} {d:%b}".lower(),  # 12 dec
    "md": lambda d: f"{d:%B} {_nth(d)}",  # December 12th
    "nth": _nth,  # 12th
    "slash": lambda d: f"{d.day}/{d.month}",  # 12/12
    "wd": lambda d: f"{d:%A}".lower(),  # saturday
    "month": lambda d: f"{d:%B}",  # December
    # A regex for the date as the bot may write it: "12 Dec", "Dec 12", "12/12", "12th"
    # ("Dec 11:00" is a time, not the 11th).
    "date_re": lambda d: (
        rf"(\b{d.day} {d:%b}|{d:%b}\w* {d.day}\b(?!:)|\b{d.day}/{d.month}\b|\b{_nth(d)}\b)"
    ),
}


def render(text: str, now: date | None = None) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(FILTERS)
    return env.from_string(text).render(**dates(now))


def _checks(raw: Any, where: str) -> list[Check]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ScriptError(f"{where}: checks must be a list")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ScriptError(f"{where}[{i}]: a check is a mapping, e.g. {{says: [word]}}")
        item = dict(item)
        why = item.pop("why", None)
        critical = bool(item.pop("critical", False))
        if len(item) != 1:
            raise ScriptError(f"{where}[{i}]: one kind of check per item, got {sorted(item)}")
        ((kind, arg),) = item.items()
        from dialogues.checks import KINDS  # the kinds live with their code

        if kind not in KINDS:
            raise ScriptError(f"{where}[{i}]: unknown check {kind!r} (known: {sorted(KINDS)})")
        out.append(Check(kind, arg, why, critical))
    return out


PHONE = re.compile(r"^\+[1-9]\d{7,14}$")


def parse(data: Any, source: str) -> list[Dialogue]:
    if not isinstance(data, list):
        raise ScriptError(f"{source}: a list of dialogues")
    out = []
    for i, raw in enumerate(data):
        where = f"{source}[{i}]"
        if not isinstance(raw, dict) or "id" not in raw:
            raise ScriptError(f"{where}: a dialogue needs an id")
        where = f"{source}:{raw['id']}"
        cls = raw.get("class")
        if cls not in CLASSES:
            raise ScriptError(f"{where}: class {cls!r} is not one of {', '.join(CLASSES)}")
        phone = str(raw.get("from") or "")  # load_all gives one when left out
        if phone and not PHONE.match(phone):
            raise ScriptError(f"{where}: from {phone!r} is not an E.164 number")
        lines = []
        for j, turn in enumerate(raw.get("turns") or []):
            if not isinstance(turn, dict) or ("say" not in turn and "media" not in turn):
                raise ScriptError(f"{where}.turns[{j}]: a turn needs say (or media)")
            lines.append(
                Line(
                    say=str(turn.get("say") or ""),
                    media=[str(m) for m in turn.get("media") or []],
                    expect=_checks(turn.get("expect"), f"{where}.turns[{j}].expect"),
                )
            )
        if not lines:
            raise ScriptError(f"{where}: no turns")
        out.append(
            Dialogue(
                id=str(raw["id"]),
                cls=cls,
                phone=phone,
                lines=lines,
                end=_checks(raw.get("end"), f"{where}.end"),
                name=raw.get("name"),
                whatsapp=raw.get("channel", "whatsapp") == "whatsapp",
                given=list(raw.get("given") or []),
                source=source,
            )
        )
    return out


def load_all(folder: Path = DIALOGUE_DIR, now: date | None = None) -> list[Dialogue]:
    """Every dialogue of every *.yml in the folder, ids unique, phones unique."""
    dialogues: list[Dialogue] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            data = yaml.safe_load(render(path.read_text(), now))
        except (jinja2.TemplateError, yaml.YAMLError) as exc:
            raise ScriptError(f"{path.name}: {exc}") from None
        dialogues += parse(data, path.name)
    for k, d in enumerate(dialogues):
        d.phone = d.phone or f"+1202555{1000 + k:04d}"
    seen: dict[str, str] = {}
    phones: dict[str, str] = {}
    for d in dialogues:
        if d.id in seen:
            raise ScriptError(f"{d.source}: id {d.id} is also in {seen[d.id]}")
        seen[d.id] = d.source
        try:
            normalize_phone(d.phone)
        except InvalidPhone:
            raise ScriptError(f"{d.source}:{d.id}: from {d.phone} is not a valid number") from None
        if d.phone in phones:
            raise ScriptError(f"{d.source}:{d.id}: from {d.phone} is also {phones[d.phone]}'s")
        phones[d.phone] = d.id
    return dialogues


def read_ratchet(path: Path = RATCHET_FILE) -> list[str]:
    if not path.exists():
        return []
    return [
        line.split("#", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.split("#", 1)[0].strip()
    ]
