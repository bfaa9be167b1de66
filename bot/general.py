"""Handlers any conversation may need: a greeting, thanks, goodbye, the menu, a tour's
details, and a person taking over (the bot then stays quiet until MENU)."""

from __future__ import annotations

from sqlalchemy import select

from bot import replies
from bot.states import State
from bot.turn import Turn
from models import ConversationStatus, Tour
from services import conversation_states, notify, ratelimit, timeline


def greet(turn: Turn) -> None:
    voice, name = turn.voice, turn.customer.name
    if name and turn.returning:
        hello = voice._("Welcome back, {name}! 👋", name=name)
    elif name:
        hello = voice._("Hi {name}! 👋", name=name)
    else:
        hello = voice._("Hi! 👋")
    turn.say(
        voice._("{greeting} This is {organization}.", greeting=hello, organization=turn.org.name)
        + "\n"
        + replies.menu_text(voice)
    )


def tour_names(turn: Turn) -> str:
    names = turn.session.scalars(
        select(Tour.name)
        .where(Tour.organization_id == turn.org.id, Tour.active.is_(True))
        .order_by(Tour.name)
    )
    return turn.voice.join(names)


def tour_info(turn: Turn) -> None:
    voice = turn.voice
    tour = turn.tour()
    if tour is None:
        turn.say(voice._("Which tour is it about? We run: {tours}.", tours=tour_names(turn)))
        return
    hours, minutes = divmod(tour.duration_minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        length = voice.n_("{n} day", "{n} days", days)
    elif minutes:
        length = voice._("{hours}h{minutes}", hours=hours, minutes=f"{minutes:02d}")
    else:
        length = voice.n_("{n} hour", "{n} hours", hours)
    parts = [voice._("{tour}: {length}.", tour=tour.name, length=length)]
    if tour.meeting_point:
        parts.append(voice._("Meeting point: {place}.", place=tour.meeting_point))
    if prices := replies.prices_line(voice, turn.org.currency, tour):
        parts.append(prices)
    parts.append(voice._("For anything else, reply AGENT and a person will answer."))
    turn.say(" ".join(parts))


def thanks(turn: Turn) -> None:
    turn.say(turn.voice._("You're welcome! 😊"))


def goodbye(turn: Turn) -> None:
    turn.say(turn.voice._("Thanks for chatting with us. Bye for now! 👋"))


def menu(turn: Turn) -> None:
    voice = turn.voice
    if turn.result.intent == "nlu_fallback":
        turn.say(voice._("Sorry, I didn't catch that.") + "\n" + replies.menu_text(voice))
    else:
        turn.say(replies.menu_text(voice))


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
    counts = ratelimit.counter(turn.config.REDIS_URL)
    name = notify.handoff_requested(
        turn.session, turn.org, conv, staff_id, turn.text, turn.now, counts
    )
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
        turn.voice._(
            "I've asked {name} to reply to you here; they'll be in touch shortly. "
            "(Reply MENU to talk to me again.)",
            name=name,
        )
        if name
        else turn.voice._(
            "I've asked our team to reply to you here; they'll be in touch shortly. "
            "(Reply MENU to talk to me again.)"
        )
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
