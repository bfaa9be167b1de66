"""What staff do to the bot's side of a conversation (its state and slots, and the handoff
flag that keeps it quiet), from the admin. Nothing outside bot/ writes those: the state
machine is bot/states.py's, and these are its STAFF_MOVES."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from bot import states
from bot.states import State
from models import Conversation, Customer, Departure
from services import notify


def expect_quote_answer(
    session: Session, customer: Customer, departure: Departure, party: Mapping[str, int]
) -> None:
    """A quote sent from the admin says "Reply YES": the conversation it went to is left
    exactly where the bot's own quote would leave it (CONFIRMING, with the departure and
    party chosen), so that YES holds these seats. In a handoff the rep reads the answer
    instead, so the bot is left alone."""
    _, conversation = notify.customer_channel(session, customer)
    if conversation is None or conversation.handoff:
        return
    states.check_move("expect_quote_answer", State.CONFIRMING)
    conversation.state = State.CONFIRMING
    conversation.slots = {
        **(conversation.slots or {}),
        "chosen": departure.code,
        "tour": departure.tour.slug,
        "party": dict(party),
        "quoted_party": dict(party),  # the price they saw: YES holds it, not a new quote
    }


def hand_back(conversation: Conversation) -> None:
    """Staff are done with the customer: the bot answers again, from the start."""
    states.check_move("hand_back", State.IDLE)
    conversation.handoff = False
    conversation.state, conversation.slots = State.IDLE, {}
