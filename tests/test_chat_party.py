"""Counting people the way customers say it (issue 17, class 4), through the signed
webhook: companions, couples, families, a bare number answering "how many?", children
still to count, children's ages against a tour's minimum age."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Booking
from tests import test_conversations as conversations
from tests.chat import Chat
from tests.test_conversations import day, spoken

# The journeys' app (the test catalog, dates from today) and customer.
app, ada = conversations.app, conversations.ada


@pytest.mark.parametrize(
    ("said", "party_words", "total"),
    [
        ("me and 2 friends", "3 adults", "$147"),
        ("my wife and I", "2 adults", "$98"),
        ("me and my gf", "2 adults", "$98"),
        ("a family of four", "4 adults", "$196"),
        ("two couples", "4 adults", "$196"),
        ("me, my husband and our 2 kids", "2 adults + 2 children", "$156"),
        ("just me and my daughter, she's 7", "1 adult + 1 child", "$78"),
        ("me + my wife + our 3 yr old", "2 adults + 1 child", "$127"),
        ("me and my husband and our 19 year old", "3 adults", "$147"),
    ],
)
def test_the_party_is_counted_as_people_say_it(
    ada: Chat, said: str, party_words: str, total: str
) -> None:
    reply = ada.say(f"any space on the sunset tour {spoken(day(2))}? {said}")
    assert party_words in reply, reply
    ada.say("1")
    quote = ada.say("yes")
    assert total in quote, quote


def test_a_bare_number_answers_how_many(ada: Chat, factory) -> None:
    ada.say(f"any space on the sunset tour {spoken(day(2))}?")
    asked = ada.say("1")
    assert "How many people" in asked
    quote = ada.say("4")
    assert "4 adults" in quote and "$196" in quote, quote
    held = ada.say("yes")
    assert "held 4 seats" in held
    with factory() as s:
        assert s.scalar(select(Booking.seats)) == 4


def test_a_word_number_answers_how_many_and_is_not_an_option(ada: Chat) -> None:
    ada.say(f"any space on the sunset tour {spoken(day(2))}?")
    ada.say("1")
    quote = ada.say("three")
    assert "3 adults" in quote and "$147" in quote, quote


def test_the_kids_not_yet_counted_are_asked_for(ada: Chat) -> None:
    ada.say(f"any space on the sunset tour {spoken(day(2))}? just the kids and me")
    asked = ada.say("1")
    assert "How many children" in asked, asked
    quote = ada.say("2")
    assert "1 adult + 2 children" in quote and "$107" in quote, quote


def test_a_number_that_answers_nothing_is_not_a_party(ada: Chat) -> None:
    """ "4" when no one asked how many stays what it was: an option, or not understood."""
    ada.say("hi")
    reply = ada.say("4")
    assert "4 adults" not in reply


def test_a_number_answering_the_enquirys_how_many_goes_on_the_lead(ada: Chat, factory) -> None:
    from models import Lead

    first = ada.say("Hi! I'm interested in the Everest Base Camp Trek")
    assert "How many people" in first
    ada.say("4")
    with factory() as s:
        assert s.scalar(select(Lead.party)) == {"adult": 4}


def test_a_child_under_the_tours_minimum_age_is_told_before_a_quote(ada: Chat, factory) -> None:
    from models import Tour

    with factory() as s:
        tour = s.scalar(select(Tour).where(Tour.slug == "sunset-tour"))
        tour.details = {"min_age": 8}
        s.commit()
    ada.say(f"any space on the sunset tour {spoken(day(2))}? 2 adults and a 5 year old")
    reply = ada.say("1")
    assert "ages 8 and up" in reply and "5-year-old" in reply, reply
    assert "Reply YES to hold" not in reply


def test_a_kids_question_beside_the_children_counted_is_answered(ada: Chat) -> None:
    """Found chatting: 'we have 2 kids, is the food tour ok for kids? and how long is it'
    answered the length only (the count made the kids question a request)."""
    reply = ada.say("we have 2 kids, is the sunset tour ok for kids? and how long is it")
    assert "2h30" in reply, reply
    assert "ages" in reply or "Good question" in reply, reply  # the kids question too
