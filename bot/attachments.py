"""Messages that are not words: a file (a photo, a document) and a shared location pin."""

from __future__ import annotations

from bot.replies import menu_text
from bot.turn import Turn
from models import OPEN_LEAD_STATUSES
from services import leads


def file_received(turn: Turn) -> None:
    turn.say(
        turn.voice._("Thanks, we've received your file. A team member will look at it.")
        + " "
        + menu_text(turn.voice)
    )


def location_pin(turn: Turn) -> None:
    """A pin (a hotel for pickup, where they are): on the open enquiry for the rep, since
    the bot itself has no use for coordinates."""
    lead = turn.conversation.lead
    if lead is None or lead.status not in OPEN_LEAD_STATUSES:
        turn.say(
            turn.voice._("Thanks for the location; a team member will see it.")
            + " "
            + menu_text(turn.voice)
        )
        return
    leads.add_details(
        turn.session,
        lead,
        turn.text,
        turn.now,
        actor=turn.actor(),
        source=turn.conversation.channel,
    )
    turn.say(
        turn.voice._(
            "Thanks, I've added your location to your enquiry {reference}. "
            "Reply MENU for anything else.",
            reference=lead.reference,
        )
    )
