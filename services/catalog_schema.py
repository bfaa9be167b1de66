"""The catalog file's shape (documented in docs/catalog.md), checked field by field.

Only what one field can say about itself is checked here; cross-references (a guide's
tours, a departure's guide, prices in the organization's currency) are checked in
services/catalog.py, which also knows the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

from models.settings import OrganizationSettings, RefundRule
from services.i18n import SUPPORTED_LANGUAGES
from services.money import MoneyError, validate_currency
from services.phones import InvalidPhone, normalize_phone, parse_address

T = TypeVar("T")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _phone(value: str) -> str:
    try:
        return normalize_phone(str(value))
    except InvalidPhone as exc:
        raise ValueError(exc.message) from None


def _address(value: str) -> str:
    try:
        channel, phone = parse_address(str(value))
    except InvalidPhone as exc:
        raise ValueError(exc.message) from None
    return f"{channel.value}:{phone}"


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone such as Asia/Kathmandu") from None
    return value


def _language(value: str) -> str:
    if value not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"{value!r} is not a language this product speaks ({', '.join(SUPPORTED_LANGUAGES)})"
        )
    return value


def _currency(value: str) -> str:
    try:
        return validate_currency(value)
    except MoneyError as exc:
        raise ValueError(exc.message) from None


def _amount(value: object) -> str:
    # Kept as text; turned into minor units once the currency is known.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('write the amount as text, e.g. "49.00"')
    return str(value).strip()


_DURATION = re.compile(r"^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?$")


def parse_duration(value: object) -> int:
    """ "14d", "90m", "2h30m" -> minutes."""
    match = _DURATION.match(str(value).strip().lower())
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration such as 14d, 90m or 2h30m")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    total = days * 1440 + hours * 60 + minutes
    if not 0 < total <= 90 * 1440:
        raise ValueError("a duration must be between 1 minute and 90 days")
    return total


def _weekday(value: object) -> str:
    key = str(value).strip().lower()[:3]
    if key not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a weekday (mon ... sun)")
    return key


def _clock(value: object) -> str:
    text = str(value).strip()
    if isinstance(value, int):  # YAML reads 17:30 unquoted as base-60 1050
        text = f"{value // 60:02d}:{value % 60:02d}"
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", text):
        raise ValueError(f"{value!r} is not a time such as 17:30")
    hours, minutes = text.split(":")
    return f"{int(hours):02d}:{minutes}"


Phone = Annotated[str, BeforeValidator(str), AfterValidator(_phone)]
Address = Annotated[str, BeforeValidator(str), AfterValidator(_address)]
Amount = Annotated[str, BeforeValidator(_amount)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Code = Annotated[
    str,
    BeforeValidator(lambda v: str(v).strip().upper()),
    Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,23}$"),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- texts customers read: one string, or a map language -> string ----------------------

TEXT_LIMIT = 2000
PHRASE_LIMIT = 200


def _text(value: object, limit: int) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("write a text")
    text = str(value).strip()
    if not text:
        raise ValueError("a text needs at least 1 character")
    if len(text) > limit:
        raise ValueError(f"a text may have at most {limit} characters")
    return text


def _per_language(value: dict[object, object], each: Callable[[object], T]) -> dict[str, T]:
    if not value:
        raise ValueError("a map of languages needs at least one language")
    out: dict[str, T] = {}
    for key, item in value.items():
        out[_language(str(key).strip().lower())] = each(item)
    return out


def _local_text(value: object) -> str | dict[str, str]:
    """ "Lunch included" or {en: "Lunch included", pt: "Almoço incluído"}."""
    if isinstance(value, dict):
        return _per_language(value, lambda item: _text(item, TEXT_LIMIT))
    return _text(value, TEXT_LIMIT)


def _phrase_list(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError("write a question, or a list of phrasings")
    if len(items) > 30:
        raise ValueError("at most 30 phrasings per question")
    return [_text(item, PHRASE_LIMIT) for item in items]


def _phrases(value: object) -> list[str] | dict[str, list[str]]:
    """One question or several phrasings/keywords, optionally per language."""
    if isinstance(value, dict):
        return _per_language(value, _phrase_list)
    return _phrase_list(value)


LocalText = Annotated[str | dict[str, str], PlainValidator(_local_text)]
Phrases = Annotated[list[str] | dict[str, list[str]], PlainValidator(_phrases)]


class FaqIn(_Strict):
    """One question customers ask and the answer the bot gives; `follow_up` is what a
    person must then do (a voucher, an invoice), made into a task for the rep."""

    q: Phrases
    a: LocalText
    follow_up: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class TourDetailsIn(_Strict):
    included: LocalText | None = None
    not_included: LocalText | None = None
    bring: LocalText | None = None
    accessibility: LocalText | None = None
    min_age: Annotated[int, Field(ge=0, le=99)] | None = None
    pickup: LocalText | None = None
    weather: LocalText | None = None


class OrganizationIn(_Strict):
    slug: Slug
    name: Name
    timezone: Annotated[str, AfterValidator(_timezone)]
    currency: Annotated[str, AfterValidator(_currency)]
    numbers: list[Address] = Field(default_factory=list)
    owner_phone: Phone | None = None
    ops_phones: list[Phone] = Field(default_factory=list)
    settings: OrganizationSettings = Field(default_factory=OrganizationSettings)
    faq: list[FaqIn] = Field(default_factory=list, max_length=200)


class StaffIn(_Strict):
    name: Name
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
    phone: Phone | None = None
    role: Literal["owner", "ops", "sales"]
    password: Annotated[str, Field(min_length=8, max_length=200)] | None = None


def _each_once(values: list[str]) -> list[str]:
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"each language once ({', '.join(twice)} is listed twice)")
    return values


GuideLanguage = Annotated[str, BeforeValidator(lambda v: _language(str(v).strip().lower()))]


class GuideIn(_Strict):
    name: Name
    phone: Phone
    tours: list[Slug] = Field(default_factory=list)
    trip_fee: Amount = "0"
    # Spoken, the one to write to them in first: "[pt, en]"; each once (as the admin's
    # guide page refuses a language chosen twice).
    languages: Annotated[list[GuideLanguage], AfterValidator(_each_once)] = Field(
        default_factory=list
    )


class DepartureIn(_Strict):
    code: Code
    start: datetime
    capacity: Annotated[int, Field(ge=1, le=10_000)]
    guide: Phone | None = None


class ScheduleIn(_Strict):
    days: Annotated[list[Annotated[str, BeforeValidator(_weekday)]], Field(min_length=1)]
    time: Annotated[str, BeforeValidator(_clock)]
    from_: date = Field(alias="from")
    until: date
    capacity: Annotated[int, Field(ge=1, le=10_000)]
    guide: Phone | None = None


def _aliases(value: object) -> object:
    """Other names customers use for a tour: a list, or a map language -> list ("pt":
    ["passeio ao pôr do sol"]). Every language's names are matched in every message, so a
    map is stored as one list."""
    if not isinstance(value, dict):
        return value
    names: list[object] = []
    for key, items in value.items():
        _language(str(key).strip().lower())
        names += items if isinstance(items, list) else [items]
    return list(dict.fromkeys(names))


def _coordinates(value: object) -> object:
    """ "27.7154, 85.3123" or [27.7154, 85.3123]: latitude then longitude, in degrees."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            raise ValueError('latitude and longitude, e.g. "27.7154, 85.3123"')
        return parts
    return value


def _in_range(value: tuple[float, float]) -> tuple[float, float]:
    lat, lon = value
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude {lat} is not between -90 and 90")
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude {lon} is not between -180 and 180")
    if lat == 0 and lon == 0:
        raise ValueError("0, 0 is in the sea off Africa: give the meeting point's")
    return (lat, lon)


Coordinates = Annotated[
    tuple[float, float], BeforeValidator(_coordinates), AfterValidator(_in_range)
]


class TourIn(_Strict):
    slug: Slug
    name: Name
    aliases: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]], BeforeValidator(_aliases)
    ] = Field(default_factory=list)
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,5}$")] | None = None
    duration: Annotated[int, BeforeValidator(parse_duration)]
    meeting_point: str | None = None
    # The meeting point's map pin, sent on the day (latitude, longitude).
    coordinates: Coordinates | None = None
    description: LocalText | None = None
    details: TourDetailsIn = Field(default_factory=TourDetailsIn)
    faq: list[FaqIn] = Field(default_factory=list, max_length=100)
    cancellation_policy: list[RefundRule] | None = None
    prices: Annotated[
        dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")], Amount], Field(min_length=1)
    ]
    departures: list[DepartureIn] = Field(default_factory=list)
    schedule: list[ScheduleIn] = Field(default_factory=list)


class CatalogIn(_Strict):
    organization: OrganizationIn
    staff: list[StaffIn] = Field(default_factory=list)
    guides: list[GuideIn] = Field(default_factory=list)
    tours: list[TourIn] = Field(default_factory=list)
