"""Dates, months and times relative to the organization's local "now".

Weekdays and relative words are resolved here, by rules a reader can check: "sat" and
"this Saturday" are the coming Saturday (today if it is Saturday), "next Saturday" is
the one after that, "tomorrow" is local tomorrow. Written dates ("15 March", "Mar 15th",
"15/03", "2027-03-15") are read by one reused dateparser instance; without a year, the
next such day that is not in the past is meant. Only short candidate phrases reach
dateparser, because it can take seconds on long free text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from itertools import pairwise

from dateparser.date import DateDataParser

from intents.entities import Entity, ParseContext
from intents.entities.numbers import NUMBER, to_int

_F = re.IGNORECASE
MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
WEEKDAY = r"(?:" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")"
ORD = r"(?:st|nd|rd|th)?"

ISO_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
DAY_MONTH_RE = re.compile(rf"\b(\d{{1,2}}){ORD}\s+(?:of\s+)?({MONTH})\b\.?(?:,?\s+(\d{{4}}))?", _F)
MONTH_DAY_RE = re.compile(
    rf"\b({MONTH})\.?\s+(?:the\s+)?(\d{{1,2}}){ORD}\b(?!\s*(?:people|pax|adults?|kids?|:))"
    rf"(?:,?\s+(\d{{4}}))?",
    _F,
)
NUMERIC_RE = re.compile(r"(?<![\d/.:])(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?(?![\d/.:])")
RELATIVE_RE = re.compile(
    rf"\b(today|tonight|this (?:evening|afternoon|morning)|tomorrow|tmrw|tmr|tomoro|2moro|"
    rf"day after tomorrow|in ({NUMBER}) days?)\b",
    _F,
)
# "sunday 13th", "sat the 12th": the day of the month says which Sunday.
WEEKDAY_DAY_RE = re.compile(
    rf"\b(?:this\s+|next\s+)?({WEEKDAY})\.?,?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"(?!\s*(?:people|pax|ppl|adults?|kids?|of us|:|am|pm|a\.m|p\.m|h\b|hrs?|hours?|{MONTH}))",
    _F,
)
WEEKDAY_RE = re.compile(rf"\b(?:(this|next|coming|this coming)\s+)?({WEEKDAY})\b\.?", _F)
WEEKEND_RE = re.compile(r"\b(?:(this|next|coming)\s+)?weekend\b", _F)
WEEK_RE = re.compile(r"\b(this|next|coming)\s+week\b", _F)
TO = r"\s*(?:-|–|to|and|till|until|through)\s*"
# "4-6 December", "between 4th and 6th of Dec", "from 4 to 6 December 2027"
DAYS_MONTH_RE = re.compile(
    rf"\b(?:between\s+|from\s+)?(\d{{1,2}}){ORD}{TO}(\d{{1,2}}){ORD}\s+(?:of\s+)?({MONTH})\b\.?"
    rf"(?:,?\s+(\d{{4}}))?",
    _F,
)
# "December 4-6", "Dec 4th to 6th"
MONTH_DAYS_RE = re.compile(
    rf"\b({MONTH})\.?\s+(\d{{1,2}}){ORD}{TO}(\d{{1,2}}){ORD}\b(?:,?\s+(\d{{4}}))?", _F
)
BETWEEN_RE = re.compile(rf"^{TO}$", _F)
MAX_RANGE_DAYS = 62
DAY_ONLY_RE = re.compile(r"\b(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)\b", _F)
MONTH_ONLY_RE = re.compile(
    rf"\b(?:(in|during|early|late|mid|end of|beginning of|start of|for)[\s-]+)?"
    rf"({MONTH})\b\.?(?:\s+(\d{{4}}))?",
    _F,
)
NEXT_MONTH_RE = re.compile(r"\b(next|this) month\b", _F)
TIME_RE = re.compile(
    r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)|\b([01]?\d|2[0-3]):([0-5]\d)\b"
    r"|\b(noon|midday|midnight)\b",
    _F,
)

MAX_CANDIDATE = 40


@cache
def _parser() -> DateDataParser:
    return DateDataParser(
        languages=["en"],
        settings={"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month"]},
    )


# No tour is booked this far ahead: a later year is not a date anyone means, and every
# reckoning with it ("the day after", a month's end) would run past year 9999 (a 500).
YEARS_AHEAD = 10


# A day and month without a year that passed this recently is a past date to question
# ("1 December" on 6 December), not next year's; further back it is next year's ("5
# January" on 30 December).
RECENT_PAST = timedelta(days=62)
# The most days each month can have (29 February exists in leap years).
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def impossible(day: int, month: int) -> bool:
    """ "31 February", "31/04": a day no such month has."""
    return 1 <= month <= 12 and not 1 <= day <= MONTH_DAYS[month - 1]


def _future(day: int, month: int, year: int | None, today: date) -> date | None:
    """The date with that day and month; without a year, the next one, unless this year's
    passed only recently (then that one, for the customer to be asked about)."""
    try:
        if year is not None:
            year = year if year > 99 else 2000 + year
            return date(year, month, day) if year <= today.year + YEARS_AHEAD else None
        for ahead in range(5):  # 29 February: the next leap year
            try:
                candidate = date(today.year + ahead, month, day)
            except ValueError:
                continue
            if candidate >= today or today - candidate <= RECENT_PAST:
                return candidate
        return None
    except ValueError:
        return None


def _next_day_of_month(day: int, today: date) -> date | None:
    """ "the 30th": this month's if still ahead, else the next month that has that day."""
    month_start = today.replace(day=1)
    for _ in range(3):
        try:
            candidate = month_start.replace(day=day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month_start = (month_start + timedelta(days=32)).replace(day=1)
    return None


def _parse_written(phrase: str, today: date) -> date | None:
    """A written date through dateparser, with our own choice of year."""
    if len(phrase) > MAX_CANDIDATE:
        return None
    data = _parser().get_date_data(phrase)
    if data.date_obj is None:
        return None
    has_year = bool(re.search(r"\b\d{4}\b", phrase))
    return _future(
        data.date_obj.day, data.date_obj.month, data.date_obj.year if has_year else None, today
    )


def _month_is_real(match: re.Match[str]) -> bool:
    # "may" and "march" are also verbs: only a month with a preposition or a year.
    word = match.group(2).lower()
    if word not in ("may", "march", "jan", "sat", "sun", "dec"):
        return True
    return bool(match.group(1) or match.group(3))


def _weekday(today: date, weekday: int, qualifier: str | None) -> date:
    ahead = (weekday - today.weekday()) % 7
    coming = today + timedelta(days=ahead)
    return coming + timedelta(days=7) if qualifier and qualifier.lower() == "next" else coming


def extract_dates(text: str, ctx: ParseContext) -> list[Entity]:
    today = ctx.now.date()
    found: list[Entity] = []

    def add(value: date | None, start: int, end: int) -> None:
        if value is not None and not any(e.start < end and start < e.end for e in found):
            found.append(Entity("date", value.isoformat(), start, end))

    for m in ISO_RE.finditer(text):
        add(_future(int(m.group(3)), int(m.group(2)), int(m.group(1)), today), m.start(), m.end())

    def add_impossible(day: int, month: int, start: int, end: int) -> None:
        # Said as a date, but no month has it: kept so nothing else reads its numbers
        # (dateparser made "31 February" into 31 December).
        if not any(e.start < end and start < e.end for e in found):
            found.append(Entity("impossible_date", f"{month:02d}-{day:02d}", start, end))

    for pattern, day_group, month_group in ((DAY_MONTH_RE, 1, 2), (MONTH_DAY_RE, 2, 1)):
        for m in pattern.finditer(text):
            day, month = int(m.group(day_group)), MONTHS[m.group(month_group).lower().rstrip(".")]
            if impossible(day, month):
                add_impossible(day, month, m.start(), m.end())
            else:
                add(_parse_written(m.group(0), today), m.start(), m.end())
    for m in NUMERIC_RE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        day, month = (b, a) if ctx.date_order == "MDY" else (a, b)
        year = int(m.group(3)) if m.group(3) else None
        if impossible(day, month):
            add_impossible(day, month, m.start(), m.end())
        elif 1 <= month <= 12:
            add(_future(day, month, year, today), m.start(), m.end())
    for m in RELATIVE_RE.finditer(text):
        word = m.group(1).lower()
        if word.startswith("in "):
            offset = to_int(m.group(2))
        elif word == "day after tomorrow":
            offset = 2
        elif word in ("tomorrow", "tmrw", "tmr", "tomoro", "2moro"):
            offset = 1
        else:
            offset = 0
        if offset <= YEARS_AHEAD * 366:
            add(today + timedelta(days=offset), m.start(), m.end())
    for m in WEEKDAY_DAY_RE.finditer(text):
        add(_next_day_of_month(int(m.group(2)), today), m.start(), m.end())
    for m in WEEKDAY_RE.finditer(text):
        add(_weekday(today, WEEKDAYS[m.group(2).lower()], m.group(1)), m.start(), m.end())
    for m in DAY_ONLY_RE.finditer(text):
        add(_next_day_of_month(int(m.group(1)), today), m.start(), m.end())
    return found


def extract_date_range(text: str, ctx: ParseContext, dates: list[Entity]) -> list[Entity]:
    """A span of days, as "first/last" (ISO 8601 interval): "4-6 December", "December 4 to
    6", "between 4 Dec and 8 Jan" (two dates found with "and"/"to" between them), "this
    weekend" (Saturday and Sunday), "next week" (Monday to Sunday)."""
    today = ctx.now.date()

    def span(first: date | None, last: date | None, start: int, end: int) -> list[Entity]:
        if first is None or last is None or not 0 <= (last - first).days <= MAX_RANGE_DAYS:
            return []
        return [Entity("date_range", f"{first.isoformat()}/{last.isoformat()}", start, end)]

    if m := DAYS_MONTH_RE.search(text):
        month, year = MONTHS[m.group(3).lower()], int(m.group(4)) if m.group(4) else None
        first = _future(int(m.group(1)), month, year, today)
        last = _future(int(m.group(2)), month, year, today)
        return span(first, last, m.start(), m.end())
    if m := MONTH_DAYS_RE.search(text):
        month, year = MONTHS[m.group(1).lower()], int(m.group(4)) if m.group(4) else None
        first = _future(int(m.group(2)), month, year, today)
        last = _future(int(m.group(3)), month, year, today)
        return span(first, last, m.start(), m.end())
    for a, b in pairwise(dates):
        if BETWEEN_RE.match(text[a.end : b.start]):
            start = a.start
            if lead := re.search(r"\b(?:between|from)\s+$", text[: a.start], _F):
                start = lead.start()
            return span(
                date.fromisoformat(str(a.value)), date.fromisoformat(str(b.value)), start, b.end
            )
    if m := WEEKEND_RE.search(text):
        saturday = _weekday(today, 5, m.group(1))  # as "sat": the coming one
        return span(saturday, saturday + timedelta(days=1), m.start(), m.end())
    if m := WEEK_RE.search(text):
        # Monday to Sunday; what is left of it for "this week".
        monday = today - timedelta(days=today.weekday())
        if m.group(1).lower() == "next":
            monday += timedelta(days=7)
        return span(max(monday, today), monday + timedelta(days=6), m.start(), m.end())
    return []


def extract_month(text: str, ctx: ParseContext, dates: list[Entity]) -> list[Entity]:
    """A month named without a day ("in March") when no full date was found."""
    if dates:
        return []
    today = ctx.now.date()
    for m in MONTH_ONLY_RE.finditer(text):
        if not _month_is_real(m):
            continue
        month = MONTHS[m.group(2).lower()]
        year = (
            int(m.group(3))
            if m.group(3)
            else (today.year if month >= today.month else today.year + 1)
        )
        if year > today.year + YEARS_AHEAD:
            continue
        return [
            Entity(
                "month", f"{year:04d}-{month:02d}", m.start(2), m.end(3) if m.group(3) else m.end(2)
            )
        ]
    if next_month := NEXT_MONTH_RE.search(text):
        first = today.replace(day=1)
        if next_month.group(1).lower() == "next":
            first = (first + timedelta(days=32)).replace(day=1)
        return [Entity("month", f"{first:%Y-%m}", next_month.start(), next_month.end())]
    return []


DAYPART_RE = re.compile(
    r"\b(morning|afternoon|evening|night|tonight|arvo|morn|lunch\s*time|lunch|dinner\s*time|"
    r"dinner|breakfast)\b"
    r"|\b(?:the\s+|a\s+)?(late|later|latest|early|earlier|earliest)\s+(?:one|departure|tour|"
    r"slot|time|session|start)\b|\b(?:the\s+)?(latest|earliest)\b",
    _F,
)
_DAYPARTS = {
    "tonight": "evening",
    "arvo": "afternoon",
    "morn": "morning",
    "lunchtime": "lunch",
    "lunch time": "lunch",
    "dinner": "evening",
    "dinnertime": "evening",
    "dinner time": "evening",
    "breakfast": "morning",
}
# "good evening", "morning!", "evening all": a greeting, not a time to book.
GOOD_RE = re.compile(r"\bgood\s*$", _F)
ALONE_RE = re.compile(r"[\s!,.]*(?:all|everyone|team|guys)?[\s!,.]*", _F)


def _greeting(text: str, m: re.Match[str]) -> bool:
    before, after = text[: m.start()], text[m.end() :]
    return bool(GOOD_RE.search(before)) or (not before.strip() and bool(ALONE_RE.fullmatch(after)))


def extract_daypart(text: str) -> list[Entity]:
    """ "evening", "Saturday morning", "the late one", "the earliest": which of a day's
    departures (services.schedule.at_time_of_day)."""
    for m in DAYPART_RE.finditer(text):
        word = next(g for g in m.groups() if g).lower()
        if word in ("morning", "afternoon", "evening", "night", "morn") and _greeting(text, m):
            continue
        if word.startswith("late"):
            value = "late"
        elif word.startswith("earl"):
            value = "early"
        else:
            value = _DAYPARTS.get(word, word)
        return [Entity("daypart", value, m.start(), m.end())]
    return []


# "at 11", "the 6 o'clock one": an hour without am/pm (morning or evening: either is meant).
LOOSE_HOUR_RE = re.compile(
    r"\b(?:at|around|about|@)\s+(\d{1,2})(?:\s*o'?clock)?\b(?!\s*(?:[:.]\d|people|pax|ppl|adults?|"
    r"kids?|of us|days?|nights?|hours?|hrs?|mins?|minutes?|%|\$|st\b|nd\b|rd\b|th\b))"
    r"|\b(\d{1,2})\s*o'?clock\b",
    _F,
)


def extract_time(text: str) -> list[Entity]:
    m = TIME_RE.search(text)
    if not m:
        loose = LOOSE_HOUR_RE.search(text)
        if loose is None:
            return []
        hour = int(loose.group(1) or loose.group(2))
        if not 1 <= hour <= 12:
            return []
        # "~": the hour, or twelve hours later (services.schedule.at_time_of_day)
        return [Entity("time", f"~{hour:02d}:00", loose.start(), loose.end())]
    if m.group(6):
        hours, minutes = (0, 0) if m.group(6).lower() == "midnight" else (12, 0)
    elif m.group(3):
        hours, minutes = int(m.group(1)), int(m.group(2) or 0)
        if hours > 12 or minutes > 59:
            return []
        pm = m.group(3).lower().startswith("p")
        hours = (hours % 12) + (12 if pm else 0)
    else:
        hours, minutes = int(m.group(4)), int(m.group(5))
    return [Entity("time", f"{hours:02d}:{minutes:02d}", m.start(), m.end())]
