"""Complaints and urgency: anger, a complaint, a refund demand, a guide or driver who did
not come, someone hurt or in danger. Each is an urgent handoff: a task for the booking's
rep and ops with the booking, the customer's words and their last messages, the customer
told who will answer and within how long, and the bot quiet until a person answers. Until
then nothing is cancelled or refunded by the bot in that conversation (complaint_pending),
however the customer asks (bot/concerns.py reads the words).

And never a harmful yes: a pending "Reply YES to cancel" is confirmed by a clear yes only;
anything else lets it lapse and is answered as a message of its own."""

from __future__ import annotations

from bot import knowledge, states
from bot.concerns import Urgency
from bot.states import State
from bot.turn import Turn
from models import ConversationStatus, TaskPriority
from services import conversation_states, ratelimit, tasks

TITLES = {
    Urgency.SAFETY: "Safety: someone may be hurt or in danger",
    Urgency.NO_SHOW: "No-show: the customer says nobody came",
    Urgency.REFUND: "Refund demanded: a person must answer (the bot refunds nothing)",
    Urgency.COMPLAINT: "Complaint: a person must answer",
}


def urgent_handoff(turn: Turn) -> None:
    """The customer's concern to a person now: the task (rep and ops told, with the
    booking and the customer's words), the customer told who answers and when, the bot
    quiet until then. A cancellation waiting for YES lapses."""
    found = turn.reading.concern
    assert found is not None
    conv = turn.conversation
    context = tasks.staff_context(
        turn.session,
        turn.org,
        turn.customer,
        conv,
        turn.now,
        booking=tasks.relevant_booking(
            turn.session,
            turn.customer,
            turn.now,
            turn.result.entity("booking_ref") or turn.slot("cancel") or turn.slot("booking"),
        ),
    )
    _, names = tasks.create(
        turn.session,
        turn.org,
        turn.customer,
        turn.now,
        kind="complaint",
        title=TITLES[found.urgency],
        context=context,
        conversation=conv,
        counts=ratelimit.counter(turn.config.REDIS_URL),
        priority=TaskPriority.URGENT,
        actor=turn.actor(),
        source=conv.channel,
        extra="\n".join(f"File: {url}" for url in turn.reading.media),
    )
    conv.handoff = True
    conversation_states.transition(
        turn.session,
        conv,
        ConversationStatus.PENDING,
        turn.now,
        actor=turn.actor(),
        source=conv.channel,
    )
    voice = turn.voice
    minutes = turn.org.settings.urgent_reply_minutes
    support = turn.org.settings.support_phone or turn.org.owner_phone
    lines = []
    if found.urgency == Urgency.SAFETY:
        lines.append(
            voice._("If anyone is hurt or in danger, call the local emergency number first.")
        )
    else:
        lines.append(voice._("I'm so sorry about this."))
    who = (
        voice._("I've told {names} right now.", names=voice.join(names))
        if names
        else voice._("I've told our team right now.")
    )
    lines.append(who)
    lines.append(
        voice.n_(
            "A person will reply to you here within {n} minute.",
            "A person will reply to you here within {n} minutes.",
            minutes,
        )
    )
    if support and found.urgency in (Urgency.SAFETY, Urgency.NO_SHOW):
        lines.append(voice._("To talk now, call {phone}.", phone=support))
    if found.urgency in (Urgency.REFUND, Urgency.COMPLAINT) and context.booking is not None:
        lines.append(
            voice._(
                "Nothing changes on {reference} until they have spoken with you.",
                reference=context.booking.reference,
            )
        )
    turn.say(" ".join(lines))
    if found.urgency != Urgency.SAFETY:
        # "Charged twice! Also, do I need insurance?": what the catalog answers, answered.
        for question in turn.reading.understanding.questions:
            if question.matches and knowledge_is_welcome(question):
                knowledge.answer_one(turn, question)
    turn.goto(State.HANDOFF, cancel=None)


def knowledge_is_welcome(question: knowledge.Question) -> bool:
    """Beside a complaint, only a real question, and nothing about refunds or discounts:
    the person answering settles those."""
    from services import knowledge as kb

    topics = {m.entry.topic for m in question.matches}
    return kb.is_question(question.text) and not topics & {kb.CANCELLATION, kb.DISCOUNT}


def complaint_pending(turn: Turn) -> None:
    """A person has not yet answered the customer's complaint: cancelling and refunds wait
    for them."""
    turn.say(
        turn.voice._(
            "A person from our team is handling your message and will sort out any "
            "cancellation or refund with you here. Nothing has been cancelled."
        )
    )
    turn.goto(State.IDLE, cancel=None)


def lapse_cancel(turn: Turn) -> None:
    """Anything but a clear yes to "Reply YES to cancel": nothing is cancelled, the question
    is dropped, and the message is answered as it would be in a fresh conversation ("yes
    but can we move it?" is a change of date)."""
    from bot import handlers  # the handlers table imports this module

    reference = turn.slot("cancel")
    turn.goto(State.IDLE, cancel=None)
    if reference:
        turn.say(turn.voice._("OK, I haven't cancelled {reference}.", reference=reference))
    reading = turn.reading
    reading.__dict__["state"] = State.IDLE
    route = states.route(reading)
    if route.handler in ("lapse_cancel", "confirm_cancel", "keep_booking"):
        return
    if route.rule.keeps_details:
        turn.absorb_entities()
    turn.instead(handlers.HANDLERS[route.handler])
