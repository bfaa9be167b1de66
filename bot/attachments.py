"""Messages that are not words: a file (a photo, a document) and a shared location pin."""

from __future__ import annotations

from bot.replies import menu_text
from bot.states import State
from bot.turn import Turn
from models import OPEN_LEAD_STATUSES, ConversationStatus
from services import conversation_states, leads, ratelimit, tasks


def file_received(turn: Turn) -> None:
    """A photo, voice note or document: the bot cannot read it, so it says so, and a
    person gets it (the link) with the customer's context."""
    name = pass_files_on(turn)
    # A person answers it: the conversation waits for them (MENU brings the bot back).
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
    turn.goto(State.HANDOFF)
    voice = turn.voice
    passed = (
        voice._(
            "Thanks, I've got your file. I can't open photos, voice notes or documents "
            "myself, so I've passed it to {name}, who will reply to you here.",
            name=name,
        )
        if name
        else voice._(
            "Thanks, I've got your file. I can't open photos, voice notes or documents "
            "myself, so I've passed it to our team, who will reply to you here."
        )
    )
    turn.say(passed + " " + voice._("(Reply MENU to talk to me again.)"))


def pass_files_on(turn: Turn) -> str | None:
    """The message's files to a person, as a task with the link to the conversation in the
    admin inbox, where they are shown and played (fetched by services/media.py); returns
    who (None: our team). Never Twilio's own media address: it needs the account's
    credentials, and does not last."""
    base = (turn.config.PUBLIC_BASE_URL or "").rstrip("/")
    links = f"Open in the inbox: {base}/admin/inbox/{turn.conversation.id}"
    context = tasks.staff_context(
        turn.session,
        turn.org,
        turn.customer,
        turn.conversation,
        turn.now,
        booking=tasks.relevant_booking(turn.session, turn.customer, turn.now),
    )
    count = len(turn.reading.media)
    _, names = tasks.create(
        turn.session,
        turn.org,
        turn.customer,
        turn.now,
        kind="media",
        title=f"Sent {count} file{'s' if count != 1 else ''} in chat: open and answer",
        context=context,
        conversation=turn.conversation,
        counts=ratelimit.counter(turn.config.REDIS_URL),
        actor=turn.actor(),
        source=turn.conversation.channel,
        extra=links,
    )
    return names[0] if names else None


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
