"""The conversation lifecycle as staff see it in the inbox, as one table. Every status change
goes through transition(), which refuses anything not in the table and writes the change
to the timeline of the conversation's lead (conversations are found through their lead and
read through their messages; one without a lead has no timeline of its own).

The handoff flag, which keeps the bot quiet while a person answers, is the bot's: only
bot/ writes it (bot/staff.py for staff; tests/test_state_machine.py checks). The status here
says who is waited for: PENDING, the customer is waiting for a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Conversation, PersonRequest, TimelineEvent
from models import ConversationStatus as C
from services import timeline
from services.lifecycle import Lifecycle, TransitionRefused

ALLOWED: dict[C, frozenset[C]] = {
    C.OPEN: frozenset({C.PENDING, C.RESOLVED}),
    # A person answered (or staff closed it).
    C.PENDING: frozenset({C.OPEN, C.RESOLVED}),
    # Only the customer writing again reopens it; whatever they ask for happens after that.
    C.RESOLVED: frozenset({C.OPEN}),
}


class ConversationTransitionError(TransitionRefused):
    pass


LIFECYCLE = Lifecycle(C, ALLOWED, ConversationTransitionError)


def transition(
    session: Session,
    conv: Conversation,
    to: C,
    now: datetime,
    *,
    actor: str,
    source: str,
    event: str = "conversation.status_changed",
    content: dict[str, Any] | None = None,
) -> TimelineEvent | None:
    """Staying where it is changes nothing and records nothing (a customer who writes
    again while waiting for a person is still waiting)."""
    if conv.status == to:
        return None
    current = LIFECYCLE.move(conv, "This conversation", to)
    _person_request(session, conv, current, to, now, actor)
    if conv.lead_id is None:
        return None
    assert conv.lead is not None
    return timeline.record(
        session,
        conv.lead,
        event,
        actor=actor,
        source=source,
        at=now,
        content={"from": current.value, "to": to.value, **(content or {})},
    )


def _person_request(
    session: Session, conv: Conversation, current: C, to: C, now: datetime, actor: str
) -> None:
    """Opens a spell of waiting for a person on the way into PENDING and closes it on the way
    out, with the staff member who ended it (actor "staff:<id>"); the owner's report reads
    first-response times from these."""
    if to == C.PENDING:
        session.add(
            PersonRequest(
                organization_id=conv.organization_id, conversation_id=conv.id, requested_at=now
            )
        )
        return
    if current != C.PENDING:
        return
    waiting = session.scalar(
        select(PersonRequest)
        .where(PersonRequest.conversation_id == conv.id, PersonRequest.closed_at.is_(None))
        .order_by(PersonRequest.id.desc())
        .limit(1)
    )
    if waiting is None:
        return
    waiting.closed_at = now
    kind, _, ident = actor.partition(":")
    if kind == "staff" and ident.isdigit():
        waiting.answered_by_id = int(ident)
