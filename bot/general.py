"""Handlers any conversation may need: a greeting, thanks, goodbye, the menu, a tour's
details, and a person taking over (the bot then stays quiet until MENU)."""

from __future__ import annotations

from sqlalchemy import select

from bot import replies
from bot.states import State
from bot.turn import Turn
from models import ConversationStatus, Tour
from services import conversation_states, notify, timeline


def greet(turn: Turn) -> None:
    name = turn.customer.name
    hello = (
        f"Welcome back, {name}! 👋"
        if name and turn.returning
        else f"Hi{' ' + name if name else ''}! 👋"
    )
    turn.say(f"{hello} This is {turn.org.name}.\n{replies.MENU}")


def tour_names(turn: Turn) -> str:
    names = turn.session.scalars(
        select(Tour.name)
        .where(Tour.organization_id == turn.org.id, Tour.active.is_(True))
        .order_by(Tour.name)
    )
    return ", ".join(names)


def tour_info(turn: Turn) -> None:
    tour = turn.tour()
    if tour is None:
        turn.say(f"Which tour is it about? We run: {tour_names(turn)}.")
        return
    hours, minutes = divmod(tour.duration_minutes, 60)
    days, hours = divmod(hours, 24)
    length = f"{days} days" if days else (f"{hours}h{minutes:02d}" if minutes else f"{hours} hours")
    text = f"{tour.name}: {length}."
    if tour.meeting_point:
        text += f" Meeting point: {tour.meeting_point}."
    if prices := replies.prices_line(turn.org, tour):
        text += f" {prices}"
    text += " For anything else, reply AGENT and a person will answer."
    turn.say(text)


def thanks(turn: Turn) -> None:
    turn.say("You're welcome! 😊")


def goodbye(turn: Turn) -> None:
    turn.say("Thanks for chatting with us. Bye for now! 👋")


def menu(turn: Turn) -> None:
    turn.say(
        f"Sorry, I didn't catch that.\n{replies.MENU}"
        if turn.result.intent == "nlu_fallback"
        else replies.MENU
    )


def handoff(turn: Turn) -> None:
    conv = turn.conversation
    conv.handoff = True
    conversation_states.transition(
        turn.session,
        conv,
        ConversationStatus.PENDING,
        turn.now,
        actor=turn.actor(),
        source=conv.channel,
    )
    staff_id = conv.assigned_to_id or (conv.lead.assigned_to_id if conv.lead else None)
    name = notify.handoff_requested(turn.session, turn.org, conv, staff_id, turn.text, turn.now)
    if conv.lead is not None:
        timeline.record(
            turn.session,
            conv.lead,
            "conversation.handoff",
            actor=turn.actor(),
            source=conv.channel,
            at=turn.now,
            content={"text": turn.text[:500]},
        )
    turn.say(
        f"I've asked {name} to reply to you here; they'll be in touch shortly. "
        "(Reply MENU to talk to me again.)"
    )
    turn.goto(State.HANDOFF)


def wait_for_person(turn: Turn) -> None:
    """A person has taken over: the message waits for them, and the bot says nothing."""
    conversation_states.transition(
        turn.session,
        turn.conversation,
        ConversationStatus.PENDING,
        turn.now,
        actor=turn.actor(),
        source=turn.conversation.channel,
    )
