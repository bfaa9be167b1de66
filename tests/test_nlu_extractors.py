"""Entity extractors on hard cases: relative dates across month and year ends, this/next
weekday, times, number words, aliases and typos, references, phones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from intents.entities import ParseContext, TourVocabulary
from intents.extract import extract_entities

KTM = ZoneInfo("Asia/Kathmandu")
VOCAB = TourVocabulary.from_tours(
    [
        ("ebc-trek", "Everest Base Camp Trek", ["EBC", "EBC trek", "everest base camp"]),
        ("sunset-tour", "Sunset Tour", ["sunset", "sarangkot sunset"]),
        ("food-tour", "Kathmandu Food Tour", ["food tour", "momo tour"]),
        ("city-walk", "Old City Heritage Walk", ["city walk", "heritage walk"]),
    ]
)


def ents(text: str, now: datetime, **kwargs) -> dict[str, object]:
    ctx = ParseContext(now=now, tours=VOCAB, **kwargs)
    return {e.entity: e.value for e in extract_entities(text, ctx)}


WED = datetime(2027, 1, 6, 10, 0, tzinfo=KTM)  # a Wednesday
SAT = datetime(2027, 1, 9, 8, 0, tzinfo=KTM)
NEW_YEARS_EVE_EVE = datetime(2027, 12, 30, 20, 0, tzinfo=KTM)  # Thursday
END_OF_JAN = datetime(2027, 1, 31, 9, 0, tzinfo=KTM)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("this saturday", WED, "2027-01-09"),
        ("next saturday", WED, "2027-01-16"),
        ("sat?", WED, "2027-01-09"),
        ("this saturday", SAT, "2027-01-09"),  # today is Saturday
        ("next saturday", SAT, "2027-01-16"),
        ("tomorrow", NEW_YEARS_EVE_EVE, "2027-12-31"),
        ("day after tomorrow", NEW_YEARS_EVE_EVE, "2028-01-01"),
        ("saturday", NEW_YEARS_EVE_EVE, "2028-01-01"),
        ("next saturday", NEW_YEARS_EVE_EVE, "2028-01-08"),
        ("jan 5", NEW_YEARS_EVE_EVE, "2028-01-05"),
        ("5th of January", NEW_YEARS_EVE_EVE, "2028-01-05"),
        ("dec 31", NEW_YEARS_EVE_EVE, "2027-12-31"),
        ("the 2nd", NEW_YEARS_EVE_EVE, "2028-01-02"),
        ("tmrw", END_OF_JAN, "2027-02-01"),
        ("the 30th", END_OF_JAN, "2027-03-30"),  # February has none
        ("in 3 days", END_OF_JAN, "2027-02-03"),
        ("15/3", WED, "2027-03-15"),
        ("March 15 2028", WED, "2028-03-15"),
        ("2027-03-15", WED, "2027-03-15"),
        ("tonight", WED, "2027-01-06"),
        # Another language's weekday, before the customer's language is known.
        ("el domingo", WED, "2027-01-10"),
        ("sunset tour domingo?", WED, "2027-01-10"),
        ("samedi", WED, "2027-01-09"),
        ("am sonntag", SAT, "2027-01-10"),
    ],
)
def test_dates(text: str, now: datetime, expected: str) -> None:
    assert ents(text, now).get("date") == expected


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("sunset tour 4-6 March for 2", "2027-03-04/2027-03-06"),
        ("between 4th and 6th of march", "2027-03-04/2027-03-06"),
        ("March 4 to 6", "2027-03-04/2027-03-06"),
        ("from 28 Feb to 3 Mar", "2027-02-28/2027-03-03"),
        ("between 4 Mar and 8 Apr", "2027-03-04/2027-04-08"),
        ("this weekend", "2027-01-09/2027-01-10"),
        ("next weekend", "2027-01-16/2027-01-17"),
        ("this week", "2027-01-06/2027-01-10"),
        ("next week", "2027-01-11/2027-01-17"),
    ],
)
def test_date_ranges(text: str, span: str) -> None:
    found = ents(text, WED)
    assert found["date_range"] == span and "date" not in found and "month" not in found


@pytest.mark.parametrize(
    "text", ["between 4 and 6 people", "6-4 March", "between 4 Jan and 8 June", "on 5 March"]
)
def test_not_date_ranges(text: str) -> None:
    assert "date_range" not in ents(text, WED)


def test_numeric_dates_follow_the_organizations_order() -> None:
    assert ents("3/4", WED, date_order="DMY")["date"] == "2027-04-03"
    assert ents("3/4", WED, date_order="MDY")["date"] == "2027-03-04"


@pytest.mark.parametrize(
    ("text", "now", "month"),
    [
        ("in March", WED, "2027-03"),
        ("early january", NEW_YEARS_EVE_EVE, "2028-01"),
        ("next month", NEW_YEARS_EVE_EVE, "2028-01"),
        ("may 2028", WED, "2028-05"),
    ],
)
def test_months(text: str, now: datetime, month: str) -> None:
    found = ents(text, now)
    assert found.get("month") == month and "date" not in found


def test_a_portuguese_ordinal_is_not_read_as_a_weekday_in_english() -> None:
    assert "date" not in ents("a segunda", WED)  # the second (option), not Monday
    assert "date" not in ents("the quinta por favor", WED)


def test_may_the_verb_is_not_a_month() -> None:
    assert "month" not in ents("may I ask something", WED)
    assert "month" not in ents("we march on", WED)


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("5:30pm", "17:30"),
        ("at 5pm", "17:00"),
        ("17:30", "17:30"),
        ("noon", "12:00"),
        ("12am", "00:00"),
        ("12 pm", "12:00"),
    ],
)
def test_times(text: str, time: str) -> None:
    assert ents(f"sunset tour {text}", WED)["time"] == time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 adults and 2 kids", {"adults": 2, "children": 2, "party_size": 4}),
        ("two adults and three children", {"adults": 2, "children": 3, "party_size": 5}),
        ("family of four", {"party_size": 4}),
        ("3 pax", {"party_size": 3}),
        ("just me", {"party_size": 1}),
        ("me and my wife", {"party_size": 2}),
        ("table for two", {"party_size": 2}),
        ("there's 4 of us, 2 adults 2 kids", {"adults": 2, "children": 2, "party_size": 4}),
        ("hold 3 seats", {"party_size": 3}),
        ("a dozen people", {"party_size": 12}),
        ("for 3 please", {"party_size": 3}),
    ],
)
def test_party_sizes(text: str, expected: dict[str, int]) -> None:
    found = ents(text, WED)
    assert {k: found[k] for k in expected if k in found} == expected


@pytest.mark.parametrize("text", ["for 3 nights", "for 2 hours", "at 5pm for 30 dollars"])
def test_durations_and_prices_are_not_party_sizes(text: str) -> None:
    assert "party_size" not in ents(text, WED)


def test_a_large_group_is_kept_when_said_plainly_but_a_bare_big_number_is_not() -> None:
    # 200 people is a group for sales; dropping it would leave an older party in place.
    assert ents("sunset tour for 200 people", WED)["party_size"] == 200
    assert ents("a group of 120", WED)["party_size"] == 120
    assert ents("150 adults and 20 kids", WED)["party_size"] == 170
    for text in ("sunset tour for 2027", "we are 300", "0 adults"):
        assert "party_size" not in ents(text, WED), text


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("EBC", "ebc-trek"),
        ("ebc trek in march", "ebc-trek"),
        ("sunset tur", "sunset-tour"),
        ("evrest base camp", "ebc-trek"),
        ("the heritage wlak", "city-walk"),
        ("MOMO TOUR", "food-tour"),
        ("Kathmandu Food Tour pls", "food-tour"),
    ],
)
def test_tours_by_alias_and_with_typos(text: str, slug: str) -> None:
    assert ents(text, WED)["tour"] == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("city tour tomorrow", "city-walk"),
        ("the momo trip", "food-tour"),
        ("everest trip", "ebc-trek"),
    ],
)
def test_a_word_only_one_tour_has_names_it(text: str, slug: str) -> None:
    # No phrase is close enough ("city tour" vs "city walk"), but only one tour has "city".
    assert ents(text, WED)["tour"] == slug


def test_a_word_two_tours_share_names_neither() -> None:
    vocab = TourVocabulary.from_tours(
        [("city-walk", "Old City Walk", []), ("city-food", "City Food Tour", [])]
    )
    found = extract_entities("city tour on saturday", ParseContext(now=WED, tours=vocab))
    assert "tour" not in {e.entity for e in found}


@pytest.mark.parametrize("text", ["what tours do you have", "I love walking", "food", "the trek"])
def test_generic_words_are_not_tours(text: str) -> None:
    assert "tour" not in ents(text, WED)


def test_references_options_email_phone() -> None:
    assert ents("cancel bk7k3q9 please", WED)["booking_ref"] == "BK-7K3Q9"
    assert ents("lead ld-2345z", WED)["booking_ref"] == "LD-2345Z"
    assert "booking_ref" not in ents("BK-HELLO", WED)  # H E L L O: L and O are not in references
    assert ents("2", WED)["option"] == 2
    assert ents("the second one", WED)["option"] == 2
    assert ents("option 3 please", WED)["option"] == 3
    assert ents("mail me: Ada@Example.com", WED)["email"] == "ada@example.com"
    assert ents("call +977 980-0000001", WED)["phone"] == "+9779800000001"
    assert "phone" not in ents("call 12345", WED)


def test_offsets_point_at_the_mention() -> None:
    ctx = ParseContext(now=WED, tours=VOCAB)
    text = "Is the sunset tur free next saturday?"
    for e in extract_entities(text, ctx):
        if e.entity == "tour":
            assert text[e.start : e.end] == "sunset tur"
        if e.entity == "date":
            assert text[e.start : e.end] == "next saturday"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("me and 2 friends", {"adults": 3, "party_size": 3}),
        ("my wife and I", {"adults": 2, "party_size": 2}),
        ("me and my gf", {"adults": 2, "party_size": 2}),
        ("me n my bf", {"adults": 2, "party_size": 2}),
        ("a family of four", {"party_size": 4}),
        ("two couples", {"party_size": 4}),
        ("myself and 3 others", {"adults": 4, "party_size": 4}),
        ("me + 2", {"adults": 3, "party_size": 3}),
        ("my parents and me", {"adults": 3, "party_size": 3}),
        ("me, my husband and our 3 kids", {"adults": 2, "children": 3, "party_size": 5}),
        ("me and my 2 kids", {"adults": 1, "children": 2, "party_size": 3}),
        ("me and my son", {"adults": 1, "children": 1, "party_size": 2}),
        ("2 adults and a child", {"adults": 2, "children": 1, "party_size": 3}),
        # a count said outright wins over the people named
        ("me and my wife, 2 adults", {"adults": 2, "party_size": 2}),
        ("we are 4 people, me and 3 friends", {"party_size": 4}),
        ("there's 4 of us plus my mum", {"party_size": 5}),
        ("4 people plus my son", {"adults": 4, "children": 1, "party_size": 5}),
        # "with my ...": the writer comes too; "check with my husband" is not a party
        ("can we do rafting w my 2 boys", {"adults": 1, "children": 2, "party_size": 3}),
        ("I'd like to come with my wife", {"adults": 2, "party_size": 2}),
        ("hold the places while I check with my husband", {}),
    ],
)
def test_parties_people_count_themselves_into(text: str, expected: dict[str, int]) -> None:
    found = ents(text, WED)
    assert {k: v for k, v in found.items() if k in expected or k in PARTY_KEYS} == expected


PARTY_KEYS = ("adults", "children", "party_size", "party_incomplete")


def test_the_kids_not_counted_leave_the_party_incomplete() -> None:
    found = ents("just the kids and me", WED)
    assert found["adults"] == 1 and found["party_incomplete"] == "children"
    assert "party_size" not in found
    # with their ages, they are counted
    found = ents("me and the kids, they're 6 and 9", WED)
    assert (found["adults"], found["children"], found["party_size"]) == (1, 2, 3)


@pytest.mark.parametrize(
    ("text", "ages"),
    [
        ("2 adults, kids aged 5 and 8", "5,8"),
        ("2 adults and a 5 year old", "5"),
        ("me and my 2 kids (4 and 9)", "4,9"),
        ("my son is 7", "7"),
        ("my 2 boys, theyre 6 and 10", "6,10"),
        ("a 6-year-old and her mum", "6"),
    ],
)
def test_childrens_ages(text: str, ages: str) -> None:
    assert ents(text, WED)["child_ages"] == ages


@pytest.mark.parametrize("text", ["tell me more", "send me the price for 3 days", "we are 30"])
def test_no_companions_where_none_are_named(text: str) -> None:
    assert "adults" not in ents(text, WED)


@pytest.mark.parametrize(
    ("text", "impossible"),
    [("31 February", "02-31"), ("feb 30th", "02-30"), ("31/4", "04-31"), ("april 31", "04-31")],
)
def test_an_impossible_date_is_no_date(text: str, impossible: str) -> None:
    found = ents(text, WED)
    assert found.get("impossible_date") == impossible
    assert "date" not in found and "month" not in found and "party_size" not in found


DEC_6 = datetime(2026, 12, 6, 10, 0, tzinfo=KTM)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 December", "2026-12-01"),  # passed five days ago: asked about, not next year's
        ("dec 1st", "2026-12-01"),
        ("30/11", "2026-11-30"),
        ("jan 5", "2027-01-05"),
        ("5 September", "2027-09-05"),  # long past this year: next year's
        ("29 feb", "2028-02-29"),  # the next one there is
    ],
)
def test_a_recent_past_date_stays_in_the_past(text: str, expected: str) -> None:
    assert ents(text, DEC_6).get("date") == expected


@pytest.mark.parametrize(
    ("text", "daypart"),
    [
        ("saturday evening", "evening"),
        ("this evening", "evening"),
        ("tonight", "evening"),
        ("friday morning pls", "morning"),
        ("the late one", "late"),
        ("the later departure", "late"),
        ("the earliest", "early"),
        ("sunday afternoon", "afternoon"),
        ("at lunchtime on wednesday", "lunch"),
        ("a dinner time tour", "evening"),
    ],
)
def test_parts_of_the_day(text: str, daypart: str) -> None:
    assert ents(text, WED).get("daypart") == daypart


def test_a_clock_time_is_not_also_a_part_of_the_day() -> None:
    assert ents("the 6pm one this evening", WED).get("time") == "18:00"
    assert "daypart" not in ents("the 6pm one this evening", WED)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ok we'll take the next date", None),
        ("the earliest one pls", None),
        ("next available", None),
        ("whichever is soonest", None),
        ("pode ser a próxima data", "pt"),
        ("o mais cedo possível por favor", "pt"),
        ("vale, la próxima fecha", "es"),
        ("lo antes posible", "es"),
        ("on prend la prochaine date", "fr"),
        ("au plus tôt svp", "fr"),
        ("ok dann nehmen wir den nächsten Termin", "de"),
        ("den nächstmöglichen bitte", "de"),
    ],
)
def test_the_soonest_said_alone_is_the_first_listed(text: str, language: str | None) -> None:
    assert ents(text, WED, language=language).get("option") == 1


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # Found by review: each took the first of a list of another tour's dates.
        ("what's the next date for the everest trek?", None),
        ("do you have the next available date in march?", None),
        ("I want to book the next available everest trek for 2", None),
        ("ok thanks, next time maybe. what's the earliest date for the food tour?", None),
        ("¿y para el próximo 20 de diciembre?", "es"),
        ("la próxima vez", "es"),
        ("el próximo puente", "es"),
        ("lo antes posible para el trek", "es"),
        ("a próxima vez", "pt"),
        ("o mais cedo possível em março", "pt"),
        ("a próxima sexta", "pt"),
        ("le 20 au plus tôt", "fr"),
        ("je préfère réserver le prochain trek de l'everest", "fr"),
        ("le prochain samedi", "fr"),
        ("Habt ihr in den nächsten Tagen noch was frei?", "de"),
        ("die nächsten zwei Wochen", "de"),
        ("den nächstmöglichen Termin im März", "de"),
        ("den nächsten 20.", "de"),
    ],
)
def test_the_next_said_with_something_else_is_not_a_pick(text: str, language: str | None) -> None:
    assert "option" not in ents(text, WED, language=language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("perdona, al final seremos 3 adultos y la niña", "es"),
        ("somos 3 adultos e a nossa filha", "pt"),
        ("nous serons 3 adultes et la petite", "fr"),
        ("wir sind 3 Erwachsene und unsere Tochter", "de"),
    ],
)
def test_the_child_said_after_the_adults_counted_is_one_more(text: str, language: str) -> None:
    """Found chatting: 'seremos 3 adultos y la niña' on a booking of 2 + the girl offered
    3 adults, dropping her (English 'and the kid' was read)."""
    found = ents(text, WED, language=language)
    assert (found.get("adults"), found.get("children"), found.get("party_size")) == (3, 1, 4)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("super. on serait 2 adultes et ma mère, donc 3. c'est combien ?", "fr"),
        ("on serait 2 adultes et ma mère", "fr"),
        ("somos 2 adultos e a minha mãe, então 3", "pt"),
        ("seremos 2 adultos y mi madre, entonces 3", "es"),
        ("wir sind 2 Erwachsene und meine Mutter, also 3", "de"),
    ],
)
def test_a_relative_after_the_adults_and_the_total_said_after_count(
    text: str, language: str
) -> None:
    """Found chatting in French: '2 adultes et ma mère, donc 3' was priced for 2."""
    found = ents(text, WED, language=language)
    assert (found.get("adults"), found.get("children"), found.get("party_size")) == (3, None, 3)


@pytest.mark.parametrize(
    ("text", "language", "size"),
    [
        ("entonces 2 adultos y 1 niño", "es", 3),
        ("wir sind 2 Erwachsene, also insgesamt 3", "de", 3),
        ("donc 3 jours", "fr", None),
        ("also 3. Dezember bitte", "de", None),
        ("entonces a las 3", "es", None),
    ],
)
def test_a_so_before_a_count_of_adults_or_days_is_no_other_total(
    text: str, language: str, size: int | None
) -> None:
    assert ents(text, WED, language=language).get("party_size") == size
