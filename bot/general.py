"""Handlers any conversation may need: a greeting, thanks, goodbye, the menu, a tour's
details, and a person taking over (the bot then stays quiet until MENU)."""

from __future__ import annotations

from sqlalchemy import select

from bot import keywords, knowledge, replies
from bot.states import State
from bot.turn import Turn
from models import ConversationStatus, Tour
from services import conversation_states, ratelimit, tasks, timeline


def greet(turn: Turn) -> None:
    voice, name = turn.voice, turn.customer.name
    if name and turn.welcome_back:
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
    """About a tour as a whole ("info on the sunset tour"): its card. Questions about it
    are answered by bot/knowledge.py before this."""
    voice = turn.voice
    tour = turn.tour()
    if tour is None:
        turn.say(voice._("Which tour is it about? We run: {tours}.", tours=tour_names(turn)))
        return
    turn.say(knowledge.tour_card(turn, tour))


def thanks(turn: Turn) -> None:
    turn.say(turn.voice._("You're welcome! 😊"))


def acknowledge(turn: Turn) -> None:
    """An "ok 👍" or a "thanks" with nothing open (after "Great, see you on…"): a line back,
    not the menu."""
    if keywords.thanks(turn.text):
        turn.say(turn.voice._("You're welcome! 😊"))
    else:
        turn.say(turn.voice._("👍 I'm here if you need anything else."))


def goodbye(turn: Turn) -> None:
    turn.say(turn.voice._("Thanks for chatting with us. Bye for now! 👋"))


def menu(turn: Turn) -> None:
    voice = turn.voice
    if turn.result.intent == "nlu_fallback":
        turn.say(voice._("Sorry, I didn't catch that.") + "\n" + replies.menu_text(voice))
    else:
        turn.say(replies.menu_text(voice))


def handoff(turn: Turn) -> None:
    """A person, please: the rep (or the owner) gets a task whose text carries the context
    (customer, booking or enquiry, tour, date, party, their last messages)."""
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
    knowledge.ensure_enquiry(turn)  # a reference and a rep, unless it is about a booking
    context = tasks.staff_context(
        turn.session,
        turn.org,
        turn.customer,
        conv,
        turn.now,
        booking=tasks.relevant_booking(
            turn.session, turn.customer, turn.now, turn.result.entity("booking_ref")
        ),
    )
    _, names = tasks.create(
        turn.session,
        turn.org,
        turn.customer,
        turn.now,
        kind="handoff",
        title="Asks for a person",
        context=context,
        conversation=conv,
        counts=ratelimit.counter(turn.config.REDIS_URL),
        actor=turn.actor(),
        source=conv.channel,
    )
    name = names[0] if names else None
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
    """A person has taken over: the message waits for them, and the bot says nothing,
    except to someone still waiting for a first answer to something urgent."""
    conversation_states.transition(
        turn.session,
        turn.conversation,
        ConversationStatus.PENDING,
        turn.now,
        actor=turn.actor(),
        source=turn.conversation.channel,
    )
    if turn.reading.awaiting_person:
        turn.say(
            turn.voice.n_(
                "A person has your message and will reply here within {n} minute.",
                "A person has your message and will reply here within {n} minutes.",
                turn.org.settings.urgent_reply_minutes,
            )
        )
    elif turn.reading.tap is not None:
        # A button of ours tapped (Hold seats, after a voice note passed to a person): it
        # does nothing while a person has the conversation, and says so, never silence.
        voice = turn.voice
        turn.say(
            voice._(
                "A person from our team is looking after this conversation and will reply "
                "here; nothing was changed."
            )
            + " "
            + voice._("(Reply MENU to talk to me again.)")
        )
