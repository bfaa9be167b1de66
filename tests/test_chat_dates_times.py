"""Dates and times of day as customers say them (issue 17, classes 5 and 6), through the
signed webhook: "6pm", "18:00", "evening", "the late one" choose among a day's departures;
a full one at the asked time is named with its waitlist and the nearest alternative; no
departure is hidden because another has room; an impossible date is refused in words; a
past date is questioned, not moved a year; a day the tour does not run says when it runs
and offers the dates nearest to the one asked; times carry the city for a number abroad."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from config import TestConfig
from models import Booking, Departure, DepartureStatus, Organization, WaitlistEntry, utcnow
from tests.chat import AUTH_TOKEN, BASE_URL, Chat
from tests.conftest import import_org
from tests.factories import catalog_data, hold, new_departure
from tests.test_conversations import KTM, day, spoken, today


def weekday_after(n: int, weekday: int) -> date:
    """The first such weekday (0 = Monday) at least n days from today."""
    d = day(n)
    return d + timedelta(days=(weekday - d.weekday()) % 7)


WEEKEND_FROM = 1
WEEKEND_UNTIL = 70


@pytest.fixture
def app(pg_url: str, factory: sessionmaker[Session]) -> Flask:
    """The test catalog from today: the sunset tour on weekends only; the city walk on
    day 5 at 09:00, 14:00 and 18:00, the 18:00 one full."""
    data = catalog_data()
    ebc, sunset, city = data["tours"]
    ebc["departures"] = [{"code": "EBC100", "start": f"{day(100)} 06:00", "capacity": 12}]
    sunset["schedule"] = [
        {
            "days": ["sat", "sun"],
            "time": "17:30",
            "from": str(day(WEEKEND_FROM)),
            "until": str(day(WEEKEND_UNTIL)),
            "capacity": 20,
        }
    ]
    city["departures"] = [{"code": "CITY5AM", "start": f"{day(5)} 09:00", "capacity": 6}]
    now = utcnow()
    with factory() as s:
        org = import_org(s, now, **data)
        for code, at in (("CITY5PM", time(14, 0)), ("CITY5EVE", time(18, 0))):
            new_departure(s, org, code, datetime.combine(day(5), at, tzinfo=KTM), 4, like="CITY5AM")
        s.flush()
        hold(s, org, "CITY5EVE", "+12025550999", now, adults=4)
        s.commit()
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    config.PUBLIC_BASE_URL = BASE_URL
    return create_app(config)


@pytest.fixture
def ada(client, factory) -> Chat:
    return Chat(client, factory, phone="+12025550101", name="Ada")


@pytest.mark.parametrize(
    "asked", ["at 6pm", "18:00", "in the evening", "the late one", "at 6 pm", "evening"]
)
def test_a_full_departure_at_the_asked_time_is_named_with_its_waitlist(
    ada: Chat, factory, asked: str
) -> None:
    reply = ada.say(f"old city walk on {spoken(day(5))} {asked} for 2")
    assert "18:00" in reply and "fully booked" in reply, reply
    assert "Join the waitlist" in reply
    assert "14:00" in reply  # the nearest alternative: the same day, earlier
    assert "See other dates" in reply
    joined = ada.say("2")
    assert "Added to the waitlist" in joined, joined
    with factory() as s:
        entry = s.scalar(select(WaitlistEntry))
        assert entry is not None and entry.departure.code == "CITY5EVE" and entry.seats == 2


def test_a_day_lists_every_departure_the_full_one_too(ada: Chat) -> None:
    reply = ada.say(f"any space on the city walk {spoken(day(5))} for 2?")
    assert "09:00" in reply and "14:00" in reply, reply
    assert re.search(r"3\) .*18:00.*full", reply), reply
    # picking the full one offers its waitlist, not a hold
    full = ada.say("3")
    assert "fully booked" in full and "Join the waitlist" in full, full


@pytest.mark.parametrize(
    ("asked", "expected"), [("the 2pm one", "14:00"), ("the first one", "09:00")]
)
def test_a_time_picks_from_the_list_given(ada: Chat, asked: str, expected: str) -> None:
    ada.say(f"any space on the city walk {spoken(day(5))} for 2?")
    quote = ada.say(asked)
    assert expected in quote and "Reply YES to hold" in quote, quote


def test_the_morning_departure_is_the_one_offered_for_the_morning(ada: Chat) -> None:
    reply = ada.say(f"city walk {spoken(day(5))} morning for 2")
    assert "09:00" in reply and "14:00" not in reply and "18:00" not in reply, reply


def test_no_departure_at_the_time_asked_says_so_and_lists_the_day(ada: Chat) -> None:
    reply = ada.say(f"city walk {spoken(day(5))} at 11:30 for 2")
    assert "No Old City Walk departure at 11:30" in reply, reply
    assert "09:00" in reply and "14:00" in reply and "18:00" in reply


@pytest.mark.parametrize(
    ("said", "named"),
    [("31 February", "31 February"), ("feb 30", "30 February"), ("31/04", "31 April")],
)
def test_an_impossible_date_is_refused_in_words(ada: Chat, factory, said: str, named: str) -> None:
    reply = ada.say(f"sunset tour on {said} for 2")
    assert f"There is no {named}" in reply, reply
    with factory() as s:  # the catalog's one hold, nothing for Ada
        assert s.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_past_date_is_questioned_not_moved_a_year(ada: Chat) -> None:
    past = day(-3)
    reply = ada.say(f"sunset tour on {spoken(past)} for 2")
    assert "has already passed" in reply, reply
    assert str(past.year + 1) not in reply
    # the next dates are offered instead
    assert "1)" in reply


def test_a_weekday_it_runs_on_without_a_departure_that_date_is_not_called_a_day_off(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    """A Saturday whose departure was cancelled: the weekend tour does run on Saturdays, so
    "doesn't run on Saturday ... every Saturday and Sunday" would contradict itself."""
    saturday = weekday_after(15, 5)
    with factory() as s:
        dep = s.scalars(select(Departure).where(Departure.code == f"SUN{saturday:%m%d}")).one()
        dep.status = DepartureStatus.CANCELLED
        s.commit()
    reply = ada.say(f"sunset tour on {spoken(saturday)} for 2")
    assert "No Sunset Tour departure on Saturday" in reply, reply
    assert "doesn't run" not in reply and "every Saturday and Sunday" in reply


def test_a_day_the_tour_does_not_run_says_when_it_runs_and_the_nearest(ada: Chat) -> None:
    wednesday = weekday_after(22, 2)
    reply = ada.say(f"sunset tour on {spoken(wednesday)} for 2")
    assert "doesn't run on Wednesday" in reply, reply
    assert "every Saturday and Sunday" in reply and "17:30" in reply
    before, after = wednesday - timedelta(days=3), wednesday + timedelta(days=3)
    listed = re.findall(r"\d\) Sunset Tour, \w+ (\d+ \w+)", reply)
    assert f"{before.day} {before:%b}" in listed and f"{after.day} {after:%b}" in listed, reply
    # nearest to the date asked, not the soonest from today
    first_weekend = weekday_after(WEEKEND_FROM, 5)
    assert f"{first_weekend.day} {first_weekend:%b}" not in listed


def test_times_carry_the_city_for_a_number_abroad_and_not_at_home(client, factory) -> None:
    abroad = Chat(client, factory, phone="+447911123456", name="Liz")
    reply = abroad.say(f"city walk {spoken(day(5))} morning for 2")
    assert "09:00 Kathmandu time" in reply, reply
    abroad.say("1")
    held = abroad.say("yes")
    assert re.search(r"Hold expires: .* Kathmandu time", held), held
    home = Chat(client, factory, phone="+9779812345678", name="Ram")
    reply = home.say(f"city walk {spoken(day(5))} morning for 2")
    assert "09:00" in reply and "Kathmandu time" not in reply, reply


def test_today_is_not_a_past_date(ada: Chat) -> None:
    reply = ada.say(f"sunset tour on {spoken(today())}")
    assert "has already passed" not in reply


def test_the_waitlist_for_a_departure_named_by_its_time(ada: Chat, factory) -> None:
    reply = ada.say(f"put us on the waitlist for the 6pm city walk on {spoken(day(5))}, 2 people")
    assert "Added to the waitlist" in reply, reply
    with factory() as s:
        entry = s.scalar(select(WaitlistEntry))
        assert entry is not None and entry.departure.code == "CITY5EVE"


def test_an_enquiry_naming_a_tour_and_a_day_shows_that_days_departures(ada: Chat) -> None:
    reply = ada.say(f"old city walk {spoken(day(5))} 9am for 2")  # the one at 9: quoted
    assert "09:00" in reply and "$50" in reply and "Reply YES to hold" in reply, reply
    reply = ada.say(f"old city walk {spoken(day(5))} for 2")  # the whole day
    assert "09:00" in reply and "14:00" in reply and "Reply with the number" in reply, reply


def test_other_dates_after_a_full_one_are_the_nearest_to_it(ada: Chat, factory) -> None:
    from models import Departure, Organization

    saturday = weekday_after(28, 5)
    with factory() as s:
        org = s.scalar(select(Organization))
        start = datetime.combine(saturday, time(17, 30), tzinfo=KTM)
        dep = s.scalar(select(Departure).where(Departure.starts_at == start))
        hold(s, org, dep, "+12025550998", utcnow(), adults=20)
        s.commit()
    full = ada.say(f"sunset tour {spoken(saturday)} for 2")
    assert "fully booked" in full, full
    other = ada.say("3")
    listed = re.findall(r"\d\) Sunset Tour, \w+ (\d+ \w+)", other)
    sunday, before = saturday + timedelta(days=1), saturday - timedelta(days=6)
    assert f"{sunday.day} {sunday:%b}" in listed and f"{before.day} {before:%b}" in listed, other
    first_weekend = weekday_after(WEEKEND_FROM, 5)
    assert f"{first_weekend.day} {first_weekend:%b}" not in listed


def test_a_full_weekend_evening_names_the_nearest_other_days_at_that_time(
    ada: Chat, factory
) -> None:
    from models import Departure, Organization

    saturday = weekday_after(28, 5)
    with factory() as s:
        org = s.scalar(select(Organization))
        start = datetime.combine(saturday, time(17, 30), tzinfo=KTM)
        dep = s.scalar(select(Departure).where(Departure.starts_at == start))
        hold(s, org, dep, "+12025550998", utcnow(), adults=20)
        s.commit()
    full = ada.say(f"sunset tour {spoken(saturday)} at 17:30 for 2 - if full the nearest date?")
    sunday, before = saturday + timedelta(days=1), saturday - timedelta(days=6)
    assert "fully booked" in full and "See other dates (nearest:" in full, full
    assert f"{before.day} {before:%b}" in full or f"{sunday.day} {sunday:%b}" in full, full


def _city_walk_today(factory, minutes_from_now: int) -> datetime:
    """A city walk today (local), minutes from now (negative: already left), and one the
    same day next week; skips when that moment is not today in Kathmandu."""
    at = (utcnow() + timedelta(minutes=minutes_from_now)).astimezone(KTM).replace(second=0)
    if at.date() != today():
        pytest.skip("too close to midnight in Kathmandu for a departure today")
    with factory() as s:
        org = s.scalar(select(Organization))
        new_departure(s, org, "CITYTODAY", at, 6, like="CITY5AM")
        new_departure(s, org, "CITYWEEK", at + timedelta(days=7), 6, like="CITY5AM")
        s.commit()
    return at


def test_a_weekday_named_on_that_weekday_is_today(ada: Chat, factory) -> None:
    at = _city_walk_today(factory, 90)
    reply = ada.say(f"old city walk {today():%A} for 2")
    assert f"{at:%H:%M}" in reply and f"{today().day} {today():%b}" in reply, reply
    assert f"{(today() + timedelta(days=7)).day} " not in reply  # not a week later


def test_a_weekday_named_on_that_weekday_after_its_departure_left_says_so(
    ada: Chat, factory
) -> None:
    at = _city_walk_today(factory, -20)
    reply = ada.say(f"old city walk on {today():%A}, 2 adults")
    assert reply.startswith(
        f"Today's Old City Walk departure ({at:%H:%M} Kathmandu time) has already left."
    ), reply
    week_on = today() + timedelta(days=7)
    assert f"1) Old City Walk, {week_on:%a} {week_on.day} {week_on:%b}" in reply, reply
    assert "doesn't run" not in reply
