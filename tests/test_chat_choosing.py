"""Picking from a list of departures the way customers say it, through the signed webhook:
"the next date", "the earliest one", "next available", "whichever is soonest" take the
soonest departure listed; "next saturday" is still a day."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Lead
from tests import test_conversations as conversations
from tests.chat import Chat
from tests.test_conversations import day

# The journeys' app (the test catalog, dates from today) and customer.
app, ada = conversations.app, conversations.ada


def short(d) -> str:  # type: ignore[no-untyped-def]
    """How a quote writes the day: "Tue 8 Dec"."""
    return f"{d:%a} {d.day} {d:%b}"


@pytest.mark.parametrize(
    "said",
    [
        "ok we'll take the next date",
        "the earliest one pls",
        "next available",
        "whichever is soonest",
        "the earliest",
        "soonest one please 🙏",
    ],
)
def test_the_soonest_departure_listed_is_taken(ada: Chat, said: str) -> None:
    listed = ada.say("sunset tour for 2 adults")
    assert "1) Sunset Tour" in listed and short(day(1)) in listed, listed
    quote = ada.say(said)
    assert "Shall I hold 2 seats" in quote and short(day(1)) in quote, quote
    assert "$98" in quote


def test_another_day_while_departures_are_listed_searches_that_day(ada: Chat, factory) -> None:
    """Read as a move (reschedule) or an enquiry, it used to answer "I couldn't find an
    active booking" or open a lead."""
    ada.say("sunset tour for 2 adults")
    reply = ada.say("can we do next saturday instead?")
    assert "Sat " in reply and "1) Sunset Tour" in reply, reply
    if day(1).weekday() != 5:
        assert short(day(1)) not in reply, reply  # not taken as "the next one"
    saturday = next(day(n) for n in range(1, 8) if day(n).weekday() == 5)
    ada.say("sunset tour for 2 adults")
    reply = ada.say("hmm what about saturday then")
    assert f"1) Sunset Tour, {short(saturday)}" in reply, reply
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 0


@pytest.mark.parametrize("said", ["ok hold", "book it", "ok book it pls"])
def test_a_hold_asked_of_the_one_departure_listed_holds_it(ada: Chat, said: str) -> None:
    """The list already priced the party: a clear hold/book request used to show the
    price again and need one more "yes"."""
    listed = ada.say(f"how much is the sunset tour on {day(2):%A} for 2 adults?")
    assert "1) Sunset Tour" in listed and "2)" not in listed, listed
    held = ada.say(said)
    assert "I've held 2 seats on Sunset Tour" in held and short(day(2)) in held, held


def test_book_it_after_the_day_was_said_takes_that_days_departure(ada: Chat) -> None:
    """A list of several, the day said beside a question, then "ok book it": that day's
    departure, not "Which departure?" again."""
    listed = ada.say("city walk for 2 adults")
    assert short(day(3)) in listed and short(day(4)) in listed, listed
    ada.say(f"{day(4):%A} works for us. do we need walking shoes?")
    held = ada.say("ok book it")
    assert "Which departure" not in held, held
    assert "I've held 2 seats" in held and short(day(4)) in held, held
