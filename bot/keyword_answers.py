"""What the words that act before any understanding do (bot/keywords.py has the words):
opting out and in, HELP, starting over; and the silence owed to someone who opted out."""

from __future__ import annotations

from bot.replies import MENU
from bot.states import State
from bot.turn import Turn


def opt_out(turn: Turn) -> None:
    turn.customer.opted_out, turn.customer.opted_out_at = True, turn.now
    # On SMS, Twilio blocks the number and confirms by itself; WhatsApp is ours to do.
    if turn.conversation.channel != "sms":
        turn.say(
            f"You've been unsubscribed from {turn.org.name} messages. "
            "Reply START to subscribe again."
        )


def opt_in(turn: Turn) -> None:
    turn.customer.opted_out, turn.customer.opted_out_at = False, None
    turn.say(f"You're subscribed to {turn.org.name} messages again. {MENU}")


def stay_silent(turn: Turn) -> None:
    """Someone who opted out is sent nothing but the confirmation."""


def send_help(turn: Turn) -> None:
    org = turn.org
    support = org.settings.support_phone or org.owner_phone or ""
    turn.say(
        f"{org.name}: {MENU}"
        + (f"\nTo reach a person call {support}." if support else "")
        + "\nReply STOP to unsubscribe."
    )


def start_over(turn: Turn) -> None:
    """MENU: whatever was in progress is forgotten, and a person's takeover ends."""
    turn.conversation.handoff = False
    turn.forget_all()
    turn.goto(State.IDLE)
    turn.say(MENU)
