"""The staff inbox: conversations waiting for a person, replies through the outbox, private
notes, assignment and resolution.

Status means: open (the bot or a rep is on it), pending (the customer is waiting for a
person: handoff asked, or they wrote again since), resolved (done; the bot answers again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from models import (
    ACTIVE_CONVERSATION_STATUSES,
    Channel,
    Conversation,
    ConversationNote,
    ConversationStatus,
    Message,
    Organization,
    StaffUser,
)
from services import conversation_states, notify, outbox, timeline
from services.errors import NotFound, ServiceError

STATUSES = tuple(s.value for s in ConversationStatus)
MAX_REPLY = 1600 * 4
PAGE_SIZE = 50


class InboxError(ServiceError):
    pass


@dataclass
class InboxRow:
    conversation: Conversation
    last_body: str
    last_direction: str


@dataclass
class ThreadItem:
    """A message or a private note, in the order they happened."""

    at: datetime
    message: Message | None = None
    note: ConversationNote | None = None


def status_counts(session: Session, org: Organization) -> dict[str, int]:
    rows = session.execute(
        select(
            Conversation.status, func.count(), func.coalesce(func.sum(Conversation.unread_count), 0)
        )
        .where(Conversation.organization_id == org.id)
        .group_by(Conversation.status)
    ).all()
    counts = {s: 0 for s in STATUSES}
    unread = 0
    for status, count, unread_sum in rows:
        counts[status] = count
        if status != ConversationStatus.RESOLVED:
            unread += int(unread_sum)
    counts["unread"] = unread
    return counts


def list_conversations(
    session: Session,
    org: Organization,
    *,
    status: str | None = None,
    assigned_to_id: int | None = None,
    page: int = 1,
) -> list[InboxRow]:
    """Customers waiting for a person first, then other handed-off conversations, then
    the newest."""
    stmt = (
        select(Conversation)
        .options(joinedload(Conversation.customer))
        .where(Conversation.organization_id == org.id)
        .order_by(
            case(
                (Conversation.status == ConversationStatus.PENDING, 0),
                (Conversation.handoff, 1),
                else_=2,
            ),
            Conversation.last_message_at.desc().nulls_last(),
            Conversation.id.desc(),
        )
        .limit(PAGE_SIZE)
        .offset(max(0, page - 1) * PAGE_SIZE)
    )
    if status in STATUSES:
        stmt = stmt.where(Conversation.status == status)
    else:  # the default view leaves resolved ones out
        stmt = stmt.where(Conversation.status.in_(ACTIVE_CONVERSATION_STATUSES))
    if assigned_to_id is not None:
        stmt = stmt.where(Conversation.assigned_to_id == assigned_to_id)
    conversations = list(session.scalars(stmt))
    last = _last_messages(session, [c.id for c in conversations])
    return [InboxRow(c, *(last.get(c.id) or ("", ""))) for c in conversations]


def _last_messages(session: Session, conversation_ids: list[int]) -> dict[int, tuple[str, str]]:
    if not conversation_ids:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    rows = session.execute(
        select(Message.conversation_id, Message.body, Message.direction).where(
            Message.id.in_(newest)
        )
    )
    return {cid: (body[:140], direction) for cid, body, direction in rows}


def get_conversation(session: Session, org: Organization, conversation_id: int) -> Conversation:
    conv = session.scalar(
        select(Conversation)
        .options(joinedload(Conversation.customer))
        .where(Conversation.id == conversation_id, Conversation.organization_id == org.id)
    )
    if conv is None:
        raise NotFound("no such conversation")
    return conv


def thread(session: Session, conv: Conversation, after_id: int = 0) -> list[ThreadItem]:
    messages = session.scalars(
        select(Message)
        .where(Message.conversation_id == conv.id, Message.id > after_id)
        .order_by(Message.id)
    )
    items = [ThreadItem(m.created_at, message=m) for m in messages]
    if after_id == 0:
        notes = session.scalars(
            select(ConversationNote)
            .options(joinedload(ConversationNote.author))
            .where(ConversationNote.conversation_id == conv.id)
        )
        items += [ThreadItem(n.created_at, note=n) for n in notes]
        items.sort(key=lambda i: (i.at, i.message.id if i.message else 0))
    return items


def mark_read(conv: Conversation) -> None:
    conv.unread_count = 0


def free_text_allowed(
    session: Session, org: Organization, conv: Conversation, now: datetime
) -> bool:
    if conv.channel != Channel.WHATSAPP:
        return True
    return outbox.window_open(session, org, conv.customer.phone, now)


def reply(
    session: Session,
    org: Organization,
    conv: Conversation,
    staff: StaffUser,
    body: str,
    now: datetime,
) -> list[Message]:
    """A rep's free-text reply on the conversation's channel."""
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise InboxError("Write a reply first.")
    if len(body) > MAX_REPLY:
        raise InboxError(f"That reply is too long ({len(body)} characters; at most {MAX_REPLY}).")
    if conv.customer.opted_out:
        raise InboxError("This customer has opted out (STOP); they cannot be messaged.")
    if not free_text_allowed(session, org, conv, now):
        raise InboxError(
            "The customer last wrote more than 24 hours ago, so WhatsApp only allows an "
            "approved template. Send the template instead."
        )
    return _send(session, org, conv, staff, body, now)


def send_template(
    session: Session,
    org: Organization,
    conv: Conversation,
    staff: StaffUser,
    summary: str,
    now: datetime,
) -> list[Message]:
    """Outside the 24-hour window: the organization's approved template, with the rep's
    one-line summary as its text variable."""
    summary = (summary or "").replace("\x00", "").strip()
    if org.settings.whatsapp_template is None:
        raise InboxError(
            "No approved WhatsApp template is configured, so this customer cannot be messaged "
            "until they write again. Call them instead."
        )
    if not summary:
        raise InboxError("Write the line that goes into the template.")
    if conv.customer.opted_out:
        raise InboxError("This customer has opted out (STOP); they cannot be messaged.")
    return _send(session, org, conv, staff, summary[:200], now)


def _send(
    session: Session,
    org: Organization,
    conv: Conversation,
    staff: StaffUser,
    body: str,
    now: datetime,
) -> list[Message]:
    rows = outbox.queue(
        session,
        org,
        conv.customer.phone,
        body,
        now,
        channel=conv.channel,
        kind="agent",
        conversation=conv,
        sent_by_id=staff.id,
    )
    conv.last_message_at = now
    conv.unread_count = 0
    if conv.status == ConversationStatus.PENDING:  # answered: nobody is waiting any more
        conversation_states.transition(
            session, conv, ConversationStatus.OPEN, now, actor=f"staff:{staff.id}", source="admin"
        )
    if conv.assigned_to_id is None:
        conv.assigned_to_id = staff.id
    return rows


def add_note(
    session: Session,
    org: Organization,
    conv: Conversation,
    staff: StaffUser,
    body: str,
    now: datetime,
) -> ConversationNote:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise InboxError("Write the note first.")
    note = ConversationNote(
        organization_id=org.id,
        conversation_id=conv.id,
        author_id=staff.id,
        body=body[:4000],
        created_at=now,
    )
    session.add(note)
    return note


def assign(
    session: Session,
    org: Organization,
    conv: Conversation,
    assignee_id: int | None,
    now: datetime,
    *,
    actor: str,
    by: StaffUser | None = None,
    link: str | None = None,
) -> StaffUser | None:
    """Gives the conversation to a teammate (or nobody). The new assignee is told by
    message, with the customer's last words and the link, unless they assigned themselves."""
    assignee = None
    if assignee_id is not None:
        assignee = session.get(StaffUser, assignee_id)
        if assignee is None or assignee.organization_id != org.id or not assignee.active:
            raise InboxError("That person is not on your team.")
    changed = conv.assigned_to_id != (assignee.id if assignee else None)
    conv.assigned_to_id = assignee.id if assignee else None
    if changed and assignee is not None and assignee.phone and (by is None or by.id != assignee.id):
        last = session.scalar(
            select(Message.body)
            .where(Message.conversation_id == conv.id, Message.direction == "inbound")
            .order_by(Message.id.desc())
            .limit(1)
        )
        who = by.name if by is not None else "Someone"
        text = (
            f"{who} assigned you the conversation with {notify.display_name(conv.customer)} "
            f"({conv.channel})"
        )
        if last:
            text += f": {notify.quoted(last)}"
        if link:
            text += f" Open: {link}"
        notify.to_staff(session, org, assignee.phone, text, now)
    if conv.lead is not None:
        timeline.record(
            session,
            conv.lead,
            "conversation.assigned",
            actor=actor,
            source="admin",
            at=now,
            content={"to": assignee.name if assignee else None},
        )
    return assignee


def resolve(session: Session, conv: Conversation, now: datetime, *, actor: str) -> None:
    """Done, and read. The caller hands the customer back to the bot too
    (bot.staff.hand_back: the handoff flag, state and slots are the bot's)."""
    conv.unread_count = 0
    conversation_states.transition(
        session,
        conv,
        ConversationStatus.RESOLVED,
        now,
        actor=actor,
        source="admin",
        event="conversation.resolved",
    )


def poll_signature(session: Session, org: Organization) -> dict[str, Any]:
    """What the inbox list needs to know whether to refresh: the latest activity and counts."""
    latest = session.scalar(
        select(func.max(Conversation.last_message_at)).where(Conversation.organization_id == org.id)
    )
    return {"latest": latest.isoformat() if latest else "", **status_counts(session, org)}


def statuses(session: Session, conv: Conversation) -> dict[int, list[str | None]]:
    """Every outbound message's delivery status and error, for the thread to refresh."""
    rows = session.execute(
        select(Message.id, Message.status, Message.error_code, Message.error_message).where(
            Message.conversation_id == conv.id, Message.direction == "outbound"
        )
    )
    return {mid: [status, code, text] for mid, status, code, text in rows}


@dataclass
class Canned:
    title: str
    body: str


def canned_replies(org: Organization, conv: Conversation) -> list[Canned]:
    """The organization's canned replies for this customer: {name} is their first name."""
    first = (conv.customer.name or "").split(" ")[0] if conv.customer.name else ""
    return [
        Canned(c.title, c.body.replace("{name}", first or "there"))
        for c in org.settings.canned_replies
    ]
