"""Words for customers in their own language: gettext catalogs for the sentences, Babel
for money, dates and times in their locale.

Every customer-facing sentence is an English msgid passed to `Voice._` / `Voice.n_`, with
named placeholders filled after translation ("Hold expires: {when}"), so a translator can
move them. `make messages` extracts the msgids to translations/messages.pot and updates
each language's .po file; the .po files are read directly at startup (no compiled .mo
files to forget), once per process.

A Voice is made for one recipient (services.i18n.voice_for): their language, the
organization's time zone, and whether times need the zone spelled out (a customer whose
number is from another country than the organization's reads "17:30 Lisbon time").
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.core import get_global
from babel.dates import format_skeleton, get_timezone_location
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

from services.money import exponent

if TYPE_CHECKING:
    from models import Customer, Guide, Organization

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"

# The languages the product speaks; an organization lists the ones it offers, first is its
# fallback. A language missing from this tuple is never offered, even if a .po exists.
SUPPORTED_LANGUAGES = ("en", "pt", "es", "fr", "de")
DEFAULT_LANGUAGE = "en"

# The locale whose conventions a language's replies use (dates, decimal signs). British
# English writes "Sat 13 Mar 17:30", the form replies have always had; European Portuguese
# for Portugal's operators (a Brazilian customer still reads it without trouble).
_LOCALES = {"en": "en_GB", "pt": "pt_PT", "es": "es_ES", "fr": "fr_FR", "de": "de_DE"}
# Money in English keeps the symbols replies have always had: "$49" (British English would
# write "US$49"); numbers are written the same way in both.
_MONEY_LOCALES = {"en": "en"}

# A calendar day, or a moment shown as its day in the organization's zone. (Inside Voice,
# `date` names the method.)
Day = date | datetime


class Term(str):
    """A catalog word said inside a sentence ("{reference} is {status}"): Voice._ translates
    it along with the sentence, so a refusal raised in English (services.errors) still reads
    whole in the customer's language."""

    __slots__ = ()


def N_(message: str) -> str:
    """Marks a sentence for `make messages` where it is written, to be translated where it
    is said: an error's message (services.errors.ServiceError.said_by), a label in a table."""
    return message


def normalize_language(code: str | None) -> str | None:
    """ "pt-BR", "PT", "pt_PT" -> "pt"; None for anything the product does not speak."""
    if not code:
        return None
    base = code.replace("-", "_").split("_")[0].strip().lower()
    return base if base in SUPPORTED_LANGUAGES else None


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalog, compiled in memory from its .po file. English (the msgids
    themselves) and a language without a catalog fall back to the English text."""
    po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def babel_locale(language: str) -> Locale:
    return Locale.parse(_LOCALES.get(language, _LOCALES[DEFAULT_LANGUAGE]))


@cache
def money_locale(language: str) -> Locale:
    return Locale.parse(_MONEY_LOCALES.get(language) or _LOCALES.get(language, "en"))


@dataclass(frozen=True)
class Voice:
    """How to say things to one recipient. Immutable and cheap: make one per message."""

    language: str = DEFAULT_LANGUAGE
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    # Spell out the zone with every time: the recipient is not where the organization is.
    zone_label: bool = False

    @property
    def locale(self) -> Locale:
        return babel_locale(self.language)

    # --- sentences ------------------------------------------------------------------

    def _(self, message: str, /, **values: Any) -> str:
        """The sentence in this voice's language, placeholders filled."""
        catalog = translations(self.language)
        text = catalog.gettext(message)
        if not values:
            return text
        for name, value in values.items():
            if type(value) is Term:
                values[name] = catalog.gettext(value)
        return text.format(**values)

    def n_(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """The singular or plural form this language uses for n; `{n}` is always filled."""
        text = translations(self.language).ngettext(singular, plural, n)
        return text.format(n=n, **values)

    def pick(self, text: str | dict[str, str] | None, fallback_language: str) -> str:
        """A catalog text that may be a plain string or a map language -> text: the
        recipient's language, else the organization's fallback, else any."""
        if text is None:
            return ""
        if isinstance(text, str):
            return text
        return (
            text.get(self.language) or text.get(fallback_language) or next(iter(text.values()), "")
        )

    # --- numbers, money and lists ---------------------------------------------------

    def money(self, amount_minor: int, currency: str) -> str:
        """ "€49" / "49 €" / "$49.50": whole amounts without zeros, as chat reads best."""
        return _money(self.language, amount_minor, currency)

    def number(self, value: int | Decimal) -> str:
        """ "12.5" / "12,5": a percentage's number, a count in a table."""
        return format_decimal(value, locale=self.locale)

    def join(self, items: Iterable[str], *, either: bool = False) -> str:
        """ "a, b and c" / "a, b e c" / "a, b und c"; either: "a, b or c"."""
        listed = [i for i in items if i]
        if not listed:
            return ""
        return format_list(listed, style="or" if either else "standard", locale=self.locale)

    # --- dates and times, in the organization's zone ---------------------------------

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def day(self, day: Day) -> str:
        """ "Sat 13 Mar" / "sábado, 13/03" / "Sa., 13. März"."""
        if isinstance(day, datetime):
            day = self.local(day).date()
        return _skeleton(self.language, "MMMEd", day)

    def date(self, day: Day, *, year: bool = False) -> str:
        """ "20 Mar" / "20/03" / "20. März"; with the year "20 Mar 2027": a due date."""
        if isinstance(day, datetime):
            day = self.local(day).date()
        return _skeleton(self.language, "yMMMd" if year else "MMMd", day)

    def long_day(self, day: Day) -> str:
        """ "Saturday 13 March" / "sábado, 13 de março"."""
        if isinstance(day, datetime):
            day = self.local(day).date()
        return _skeleton(self.language, "MMMMEEEEd", day)

    def clock(self, moment: datetime) -> str:
        """ "17:30", or "17:30 Lisbon time" for a recipient abroad."""
        text = _skeleton(self.language, "Hm", self.local(moment).time())
        if not self.zone_label:
            return text
        return self._("{time} {city} time", time=text, city=self.city())

    def when(self, moment: datetime) -> str:
        """ "Sat 13 Mar 17:30": a departure's start, a hold's expiry."""
        return f"{self.day(moment)} {self.clock(moment)}"

    def city(self) -> str:
        return _city(self.language, self.tz.key)


# Babel works out a date's or an amount's pattern for the locale on every call (a tenth of
# a millisecond each): the same departures and prices recur in message after message, so
# the formatted text is kept. The sentences around them are not (gettext is fast, and a
# test may swap the catalogs).
@lru_cache(maxsize=16384)
def _skeleton(language: str, skeleton: str, value: date | time) -> str:
    return format_skeleton(skeleton, value, locale=babel_locale(language), fuzzy=True)


@cache
def _city(language: str, zone: str) -> str:
    return get_timezone_location(ZoneInfo(zone), locale=babel_locale(language), return_city=True)


@lru_cache(maxsize=16384)
def _money(language: str, amount_minor: int, currency: str) -> str:
    locale = money_locale(language)
    value = Decimal(amount_minor).scaleb(-exponent(currency))
    if value != value.to_integral_value():
        return format_currency(value, currency, locale=locale)
    # The locale's own pattern with the fraction digits dropped ("#,##0.00 ¤" -> "#,##0 ¤").
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    pattern = pattern.replace(".00", "").replace(",00", "")
    return format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)


def organization_languages(languages: Iterable[str]) -> tuple[str, ...]:
    """The organization's configured languages the product speaks, fallback first."""
    spoken = tuple(dict.fromkeys(code for code in map(normalize_language, languages) if code))
    return spoken or (DEFAULT_LANGUAGE,)


def reply_language(wanted: str | None, offered: Iterable[str]) -> str:
    """The customer's language if the organization offers it, else its fallback."""
    languages = organization_languages(offered)
    code = normalize_language(wanted)
    return code if code in languages else languages[0]


@cache
def _territory_of_zone(zone: str) -> str | None:
    return get_global("zone_territories").get(zone)


# A customer's number is parsed once per process, not on every message they send.
@lru_cache(maxsize=16384)
def abroad(phone: str | None, zone: str) -> bool:
    """True when a number's country differs from the country of the organization's zone: its
    owner may read "17:30" in their own time, so replies name the city."""
    if not phone:
        return False
    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return False
    # A number outside any allocated range (a fictional one) still has a country code.
    region = phonenumbers.region_code_for_number(parsed) or (
        parsed.country_code and phonenumbers.region_code_for_country_code(parsed.country_code)
    )
    home = _territory_of_zone(zone)
    return bool(region and home and region != home)


def voice_for(
    timezone: str,
    languages: Iterable[str],
    *,
    language: str | None = None,
    phone: str | None = None,
) -> Voice:
    """The voice for one recipient of an organization (its zone and languages): their
    language where offered, times labelled with the city when their number is foreign."""
    return Voice(
        language=reply_language(language, languages),
        tz=ZoneInfo(timezone),
        zone_label=abroad(phone, timezone),
    )


def customer_voice(org: Organization, customer: Customer | None) -> Voice:
    """The voice for one of the organization's customers: how a reply, a notification or a
    payment page speaks to them."""
    return voice_for(
        org.timezone,
        org.settings.languages,
        language=customer.language if customer is not None else None,
        phone=customer.phone if customer is not None else None,
    )


def guide_languages(languages: Iterable[str] | None) -> list[str]:
    """A guide's languages the product speaks, in their order of preference, each once:
    ["pt-BR", "xx", "en", "pt"] -> ["pt", "en"]."""
    return list(dict.fromkeys(code for code in map(normalize_language, languages or ()) if code))


def guide_voice(org: Organization, guide: Guide, language: str | None = None) -> Voice:
    """The voice for one of the organization's guides: the first of their languages the
    product speaks (whatever the organization offers customers), else English; times in the
    organization's zone, where the guide works. language: another of theirs (a template
    made in their second language)."""
    spoken = guide_languages(guide.languages)
    chosen = language or (spoken[0] if spoken else DEFAULT_LANGUAGE)
    return Voice(language=chosen, tz=ZoneInfo(org.timezone))
