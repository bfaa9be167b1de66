"""What the words that act before any understanding do (bot/keywords.py has the words):
opting out and in, HELP, starting over; and the silence owed to someone who opted out."""

from __future__ import annotations

from bot import keywords
from bot.replies import menu_text
from bot.states import State
from bot.turn import Turn
from models import ConversationStatus, TaskPriority
from services import conversation_states, tasks


def opt_out(turn: Turn) -> None:
    turn.customer.opted_out, turn.customer.opted_out_at = True, turn.now
    if turn.reading.keyword == keywords.CANCEL:
        _may_mean_the_booking(turn)
    # On SMS, Twilio blocks the number and confirms by itself; WhatsApp is ours to do.
    if turn.conversation.channel != "sms":
        turn.say(
            turn.voice._(
                "You've been unsubscribed from {organization} messages. "
                "Reply START to subscribe again.",
                organization=turn.org.name,
            )
        )


def _may_mean_the_booking(turn: Turn) -> None:
    """CANCEL on SMS opts the sender out at Twilio, which then blocks every text to them;
    someone with a booking may have meant the booking. Nothing is cancelled: a person is
    asked, urgently, to call them."""
    booking = tasks.relevant_booking(turn.session, turn.customer, turn.now)
    if booking is None:
        return
    turn.task_for_staff(
        "opt_out",
        f"Sent {turn.text.strip()[:20]!r}, which opted them out of our text messages (Twilio "
        f"blocks every text to them now); they may mean booking {booking.reference}: call "
        "them. Nothing was cancelled.",
        booking=booking,
        priority=TaskPriority.URGENT,
    )


def opt_in(turn: Turn) -> None:
    turn.customer.opted_out, turn.customer.opted_out_at = False, None
    voice = turn.voice
    turn.say(
        voice._("You're subscribed to {organization} messages again.", organization=turn.org.name)
        + " "
        + menu_text(voice)
    )


def stay_silent(turn: Turn) -> None:
    """Someone who opted out is sent nothing but the confirmation."""


def send_help(turn: Turn) -> None:
    org, voice = turn.org, turn.voice
    support = org.settings.support_phone or org.owner_phone or ""
    lines = [voice._("{organization}: {menu}", organization=org.name, menu=menu_text(voice))]
    if support:
        lines.append(voice._("To reach a person call {phone}.", phone=support))
    lines.append(voice._("Reply STOP to unsubscribe."))
    turn.say("\n".join(lines))


def start_over(turn: Turn) -> None:
    """MENU: whatever was in progress is forgotten, and a person's takeover ends (nobody is
    waited for any more: the conversation leaves the inbox's pending list)."""
    turn.conversation.handoff = False
    if turn.conversation.status == ConversationStatus.PENDING:
        conversation_states.transition(
            turn.session,
            turn.conversation,
            ConversationStatus.OPEN,
            turn.now,
            actor=turn.actor(),
            source=turn.conversation.channel,
        )
    turn.forget_all()
    turn.goto(State.IDLE)
    turn.say(menu_text(turn.voice))
