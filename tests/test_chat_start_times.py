"""A start time asked for a day, through the signed webhook: that day's departures, with
their times ("what time does the city walk start tmrw and where do we meet")."""

from __future__ import annotations

from tests import test_conversations as conversations
from tests.chat import Chat
from tests.test_conversations import day

# The journeys' app (the test catalog, dates from today) and customer.
app, ada = conversations.app, conversations.ada


def short(d) -> str:  # type: ignore[no-untyped-def]
    return f"{d:%a} {d.day} {d:%b}"


def test_the_start_time_asked_for_tomorrow_gives_tomorrows_departure(ada: Chat) -> None:
    """Found chatting: the meeting point and a tour summary came back, never the time."""
    reply = ada.say("ok wait what time does the sunset tour start tmrw and where do we meet")
    assert f"{short(day(1))} 17:30" in reply, reply
    assert short(day(2)) not in reply, reply  # that day's, not the next three


def test_the_start_time_asked_for_a_day_names_that_days_departure(ada: Chat) -> None:
    reply = ada.say(f"hmm what time does the city walk start on {day(4):%A}")
    assert f"{short(day(4))} 09:00" in reply, reply
    assert short(day(3)) not in reply, reply
