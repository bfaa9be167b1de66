"""A day asked before any tour is chosen ("what do you have on Saturday?", "anything
tomorrow for 2?"): every tour's departures with room that day, priced for the party, in the
customer's language, through the signed webhook; then "the sunset one" picks from that list,
and a word only one tour's name has answers "which tour?"."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Conversation, Customer, Lead
from tests import test_conversations as conversations
from tests.chat import Chat
from tests.test_conversations import day, spoken

# The journeys' app (the test catalog, dates from today) and customer.
app, ada = conversations.app, conversations.ada


def conversation_of(factory: sessionmaker[Session], phone: str) -> Conversation:
    with factory() as s:
        return s.scalars(select(Conversation).join(Customer).where(Customer.phone == phone)).one()


def test_a_day_and_no_tour_lists_every_tours_departures_priced_for_the_party(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    # Day 3 has the city walk at 09:00 and the sunset tour at 17:30.
    listed = ada.say(f"hi! we're 2 adults, what do you have {spoken(day(3))}?? 😊")
    assert "Which tour" not in listed
    assert "1) Old City Walk" in listed and "$25 × 2 = $50" in listed, listed
    assert "2) Sunset Tour" in listed and "$49 × 2 = $98" in listed, listed
    conv = conversation_of(factory, ada.phone)
    assert conv.state == "choosing" and conv.slots["offered"] == ["CITY3", conv.slots["offered"][1]]
    # No enquiry was opened for a question the bot answered itself.
    with factory() as s:
        assert s.scalar(select(Lead)) is None

    # "the sunset one": the list's sunset departure, never the city walk.
    chosen = ada.say("the sunset one pls")
    assert "Sunset Tour" in chosen and "Old City Walk" not in chosen, chosen
    assert conversation_of(factory, ada.phone).slots["tour"] == "sunset-tour"


def test_a_child_on_an_adults_only_tour_leaves_that_tour_out_of_the_days_list(
    ada: Chat,
) -> None:
    listed = ada.say(f"anything {spoken(day(3))} for me and my son (8)?")
    assert "Sunset Tour" in listed and "$49 × 1 + $29 × 1 = $78" in listed, listed
    assert "Old City Walk" not in listed  # priced for adults only


def test_nothing_with_room_that_day_asks_which_tour_and_its_name_finds_the_nearest(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    nothing = ada.say(f"what tours are on {spoken(day(45))}")
    assert "Nothing has room on" in nothing and "Which tour would you like?" in nothing
    assert conversation_of(factory, ada.phone).state == "need_tour"
    nearest = ada.say("sunset")
    assert "Sunset Tour" in nearest and "nearest" in nearest.lower(), nearest


def test_a_word_only_one_tour_has_answers_which_tour(ada: Chat) -> None:
    asked = ada.say("how long does it take?")
    assert "Which tour is it about?" in asked
    answer = ada.say("the everest one")
    assert "14 days" in answer or "14d" in answer or "Everest Base Camp Trek" in answer, answer
    assert "Which tour" not in answer


def test_elsewhere_a_word_of_a_tour_name_does_not_switch_tours(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    """ "can we see everest from there?" with the city walk chosen names no new tour: only
    an answer to "which tour?" (or a list of several tours) is read word by word."""
    ada.say(f"old city walk {spoken(day(3))} for 2")
    ada.say("can we see everest from there?")
    assert conversation_of(factory, ada.phone).slots["tour"] == "city-walk"


def test_a_tour_named_after_a_days_list_is_the_customers_choice_even_if_not_listed(
    ada: Chat, factory: sessionmaker[Session]
) -> None:
    """Day 5 has only the sunset tour; "the everest one" after that day's list names the
    trek (no tour was chosen yet), so its question is answered, not "which tour?"."""
    listed = ada.say(f"what have you got {spoken(day(5))}?")
    assert "Sunset Tour" in listed and "Old City Walk" not in listed, listed
    answer = ada.say("how long is the everest one?")
    assert "Which tour" not in answer, answer
    assert conversation_of(factory, ada.phone).slots["tour"] == "ebc-trek"
