"""Handles one inbound message end to end: who sent it (one query), what answers it (the
rules in bot/states.py decide; this module decides nothing), the message and its replies
in the log (a repeated MessageSid stops there), and the conversation's counters. Returns
the replies for the sender; everything else goes through the outbox in the same
transaction."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import guides, handlers, lead_capture, states
from bot.states import State
from bot.turn import Reading, Turn
from config import Config
from intents import NLU
from intents.pipeline import clean
from models import (
    Channel,
    Conversation,
    ConversationStatus,
    Customer,
    Guide,
    Message,
    MessageStatus,
    Organization,
    OrganizationNumber,
    PendingInbound,
    TaskPriority,
)
from services import conversation_states, media, outbox, ratelimit, tasks, whatsapp_content
from services.customers import add_customer, fill_in_contact
from services.message_costs import SERVICE, SMS, billing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    channel: str
    from_phone: str
    to_phone: str
    body: str
    provider_sid: str
    profile_name: str | None = None
    media: tuple[str, ...] = ()
    media_types: tuple[str, ...] = ()  # each file's content type, as Twilio says
    location: str | None = None  # a shared pin, as text with a map link
    tap: str | None = None  # a tapped WhatsApp button's or list row's payload
    opt_out_type: str | None = None  # Twilio's OptOutType: STOP, START or HELP


@dataclass(frozen=True)
class Sender:
    """The organization a message was written to, and what it knows of the writer."""

    org: Organization
    guide_id: int | None
    customer: Customer | None
    conversation: Conversation | None


# Every message needs the organization, whether the sender is a guide, the customer and
# their conversation: one query instead of four (built once, run with parameters).
_SENDER_QUERY = (
    select(
        Organization,
        select(Guide.id)
        .where(
            Guide.organization_id == Organization.id,
            Guide.phone == bindparam("from_phone"),
            Guide.active.is_(True),
        )
        .limit(1)
        .scalar_subquery(),
        Customer,
        Conversation,
    )
    .join(OrganizationNumber, OrganizationNumber.organization_id == Organization.id)
    .outerjoin(
        Customer,
        and_(
            Customer.organization_id == Organization.id,
            Customer.phone == bindparam("from_phone"),
        ),
    )
    .outerjoin(
        Conversation,
        # By customer and channel only: the customer implies the organization, and these
        # two columns lead the unique index (no choice for the planner to get wrong).
        and_(Conversation.customer_id == Customer.id, Conversation.channel == bindparam("channel")),
    )
    .where(
        OrganizationNumber.channel == bindparam("to_channel"),
        OrganizationNumber.phone == bindparam("to_phone"),
    )
)


def find_sender(session: Session, msg: Inbound, to_channel: str) -> Sender | None:
    """None when no organization owns the number the message was sent to."""
    row = session.execute(
        _SENDER_QUERY,
        {
            "from_phone": msg.from_phone,
            "channel": msg.channel,
            "to_channel": to_channel,
            "to_phone": msg.to_phone,
        },
    ).first()
    return None if row is None else Sender(*row)


def replies_for_sid(session: Session, provider_sid: str) -> list[str] | None:
    """The replies given to an inbound message already handled; None if there is none."""
    existing = session.scalar(select(Message.id).where(Message.provider_sid == provider_sid))
    return _replies_to(session, existing) if existing is not None else None


def store_inbound(
    session: Session, sender: Sender, msg: Inbound, to_channel: str, now: datetime
) -> int:
    """The webhook's whole part when a worker answers (bot/inbound.py): the message in the
    log (a repeated MessageSid raises IntegrityError here, the first statement) and what
    the state machine will read of it in PendingInbound. Returns the message's id; the
    caller commits, then enqueues its answer."""
    logged = _record(
        session,
        sender.org,
        msg,
        _text(msg),
        now,
        # A guide's phone makes every message a command (the first rule of bot/states.py).
        kind="guide" if sender.guide_id is not None else "customer",
        conversation_id=None
        if sender.guide_id is not None or sender.conversation is None
        else sender.conversation.id,
    )
    session.execute(
        insert(PendingInbound),
        {
            "message_id": logged.id,
            "organization_id": sender.org.id,
            "inbound": {**asdict(msg), "to_channel": to_channel},
            "attempts": 0,
            "created_at": now,
        },
    )
    return logged.id


# The task of a message whose answer failed MAX_ATTEMPTS times (bot/inbound.py).
FAILED_TURN_TITLE = "Answer this message: the bot failed to"


def leave_for_staff(
    session: Session,
    sender: Sender,
    msg: Inbound,
    message_id: int,
    arrived: datetime,
    now: datetime,
    config: Config,
) -> Conversation | None:
    """A stored customer's message the bot could not answer (bot/inbound.py gives up after
    some tries) put before a person: in the customer's conversation, made as the turn
    would (a first message has none), which waits for a person, with an urgent task.
    None for a guide's message (staff; logged without a conversation)."""
    if sender.guide_id is not None:
        return None
    org = sender.org
    customer = sender.customer
    if customer is None:
        customer, _ = add_customer(session, org, msg.from_phone, now, name=_name(msg.profile_name))
    conv = sender.conversation or _conversation(session, org, customer, msg.channel, now)
    _logged(session, org, msg, _text(msg), arrived, "customer", conv.id, message_id)
    conv.last_inbound_at = conv.last_message_at = max(arrived, conv.last_inbound_at or arrived)
    conv.unread_count += 1
    conv.handoff = True
    actor = f"customer:{customer.phone}"
    conversation_states.transition(
        session, conv, ConversationStatus.PENDING, now, actor=actor, source=msg.channel
    )
    tasks.create(
        session,
        org,
        customer,
        now,
        kind="handoff",
        title=FAILED_TURN_TITLE,
        context=tasks.staff_context(session, org, customer, conv, now),
        conversation=conv,
        counts=ratelimit.counter(config.REDIS_URL),
        priority=TaskPriority.URGENT,
        actor=actor,
        source=msg.channel,
    )
    return conv


def stored_inbound(pending: PendingInbound) -> tuple[Inbound, str]:
    """The message a webhook stored (store_inbound), and the channel it was sent to."""
    fields = dict(pending.inbound)
    to_channel = fields.pop("to_channel")
    for name in ("media", "media_types"):
        fields[name] = tuple(fields.get(name) or ())
    return Inbound(**fields), to_channel


def handle_inbound(
    session: Session,
    sender: Sender,
    msg: Inbound,
    nlu: NLU,
    now: datetime,
    config: Config,
    *,
    stored_id: int | None = None,
) -> list[str]:
    """Records the message and returns the replies for the sender. The route is decided
    first, by reading only; then the first write, the message's log row, raises
    IntegrityError for a repeated MessageSid (see _record) before anything else is done.

    stored_id: the message a webhook already logged (store_inbound), answered by a worker:
    the replies go through the outbox (the REST API), in order, and [] is returned."""
    org = sender.org
    reading = Reading(
        session,
        org,
        nlu,
        now,
        text=_text(msg),
        tap=msg.tap,
        media=msg.media,
        location=msg.location is not None,
        from_guide=sender.guide_id is not None,
        customer=sender.customer,
        conversation=sender.conversation,
        channel=msg.channel,
        opt_out_type=msg.opt_out_type,
        advanced_opt_out=config.TWILIO_ADVANCED_OPT_OUT,
    )
    route = states.route(reading)
    if route.handler == states.GUIDE_COMMAND:
        # Guides are staff: their messages are commands, logged without a conversation.
        guide = session.get_one(Guide, sender.guide_id)
        inbound = _logged(session, org, msg, reading.text, now, "guide", None, stored_id)
        return _reply(
            session,
            org,
            msg,
            inbound,
            guides.handle(session, org, guide, inbound.body, now),
            now,
            by_rest=stored_id is not None,
        )

    name = _name(msg.profile_name)
    customer = sender.customer
    if customer is None:
        # Written with its language: one statement, not an insert and an update.
        customer, _ = add_customer(
            session, org, msg.from_phone, now, name=name, language=reading.language
        )
    else:
        fill_in_contact(customer, name=name)
    if reading.language and reading.language != customer.language:
        customer.language = reading.language  # before the turn's voice is made
    conv = sender.conversation or _conversation(session, org, customer, msg.channel, now)
    inbound = _logged(session, org, msg, reading.text, now, "customer", conv.id, stored_id)
    if msg.media:
        # Kept by a job once this commits (services/media.py): Twilio's copy needs our
        # credentials to open and does not last.
        media.record(
            session,
            org.id,
            inbound.id,
            list(zip(msg.media, msg.media_types + ("",) * len(msg.media), strict=False)),
            now,
        )
    if conv.status == ConversationStatus.RESOLVED:
        # Before the answer, which may ask for a person: a resolved conversation only comes
        # back through OPEN.
        conversation_states.transition(
            session,
            conv,
            ConversationStatus.OPEN,
            now,
            actor=f"customer:{customer.phone}",
            source=msg.channel,
        )
    turn = Turn(session, org, conv, customer, reading, now, config)
    replies = handlers.answer(turn, route)
    lead_capture.keep_needs(turn)
    # After the answer, so the conversation gets one UPDATE with the turn's own changes.
    conv.last_inbound_at = conv.last_message_at = now
    conv.unread_count += 1
    if turn.interactive and msg.channel == Channel.WHATSAPP:
        rendered = _rendered(session, org, turn, replies)
        if rendered is not None:
            # Rows and buttons cannot travel in TwiML: the whole turn's replies go through
            # the outbox, in order, once this transaction commits.
            outbox.queue_replies(
                session,
                org,
                conv.id,
                inbound.id,
                channel=msg.channel,
                from_phone=msg.to_phone,
                to_phone=msg.from_phone,
                replies=rendered,
                now=now,
            )
            return []
    return _reply(session, org, msg, inbound, replies, now, by_rest=stored_id is not None)


def _rendered(
    session: Session, org: Organization, turn: Turn, replies: list[str]
) -> list[outbox.Reply] | None:
    """The turn's replies with their WhatsApp content where they offer choices; None when
    any of them cannot be shown (no content made yet, something too long): the words then
    go, numbered, as always."""
    out = []
    for index, text in enumerate(replies):
        choices = turn.interactive.get(index)
        if choices is None:
            out.append(outbox.Reply(text))
            continue
        shown = whatsapp_content.render(session, org, turn.voice.language, choices)
        if shown is None:
            return None
        out.append(outbox.Reply(text, shown.content_sid, shown.variables))
    return out


@dataclass(frozen=True)
class Logged:
    """An inbound message as stored in the communications log."""

    id: int
    conversation_id: int | None
    body: str
    media: tuple[str, ...]
    location: bool = False


# The log is append-only and nothing reads these rows back in the same request, so they are
# written with Core inserts: the ORM's unit of work costs about three times the CPU here.
_MESSAGES = Message.__table__
assert isinstance(_MESSAGES, Table)
_LOG_INBOUND = _MESSAGES.insert().returning(_MESSAGES.c.id)
_LOG_REPLY = _MESSAGES.insert()


def _record(
    session: Session,
    org: Organization,
    msg: Inbound,
    body: str,
    now: datetime,
    *,
    kind: str,
    conversation_id: int | None,
) -> Logged:
    # Twilio retries deliveries: the unique MessageSid makes a repeat fail right here, the
    # first statement of the turn, before anything else happens; the webhook then answers
    # with the replies stored the first time (replies_for_sid).
    message_id = session.execute(
        _LOG_INBOUND,
        {
            "organization_id": org.id,
            "conversation_id": conversation_id,
            "direction": "inbound",
            "channel": msg.channel,
            "from_phone": msg.from_phone,
            "to_phone": msg.to_phone,
            "body": body,
            "media": list(msg.media),
            "status": MessageStatus.RECEIVED,
            "kind": kind,
            "provider_sid": msg.provider_sid,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    return Logged(message_id, conversation_id, body, msg.media, msg.location is not None)


def _logged(
    session: Session,
    org: Organization,
    msg: Inbound,
    body: str,
    now: datetime,
    kind: str,
    conversation_id: int | None,
    stored_id: int | None,
) -> Logged:
    """The message's log row: written now, or, when the webhook stored it already, linked
    to the conversation (a first message's conversation did not exist then)."""
    if stored_id is None:
        return _record(session, org, msg, body, now, kind=kind, conversation_id=conversation_id)
    if conversation_id is not None:
        session.execute(
            update(Message)
            .where(Message.id == stored_id, Message.conversation_id.is_(None))
            .values(conversation_id=conversation_id)
        )
    return Logged(stored_id, conversation_id, body, msg.media, msg.location is not None)


def _reply(
    session: Session,
    org: Organization,
    msg: Inbound,
    inbound: Logged,
    replies: list[str],
    now: datetime,
    *,
    by_rest: bool = False,
) -> list[str]:
    """The replies go back in the TwiML; they are logged as such, linked to the message.
    by_rest: the webhook has answered Twilio already; they go through the outbox, in
    order, and none is returned."""
    if replies and by_rest:
        outbox.queue_replies(
            session,
            org,
            inbound.conversation_id,
            inbound.id,
            channel=msg.channel,
            from_phone=msg.to_phone,
            to_phone=msg.from_phone,
            replies=[outbox.Reply(text) for text in replies],
            now=now,
        )
        return []
    if replies:
        category = SMS if msg.channel == Channel.SMS else SERVICE
        rows = []
        for text in replies:
            units, country = billing(msg.channel, category, None, msg.from_phone, text)
            rows.append(
                {
                    "organization_id": org.id,
                    "conversation_id": inbound.conversation_id,
                    "direction": "outbound",
                    "channel": msg.channel,
                    "from_phone": msg.to_phone,
                    "to_phone": msg.from_phone,
                    "body": text,
                    "status": MessageStatus.REPLY,
                    "kind": "reply",
                    "category": category,
                    "units": units,
                    "country": country,
                    "reply_to_id": inbound.id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(_LOG_REPLY, rows)
    return replies


def _text(msg: Inbound) -> str:
    # A shared location has no body: the pin, as text, is what the log and the staff see.
    return clean(msg.body if msg.body.strip() or not msg.location else msg.location)


def _conversation(
    session: Session, org: Organization, customer: Customer, channel: str, now: datetime
) -> Conversation:
    """The customer's first message on this channel starts their conversation. Two first
    messages at once: the second finds the conversation the first one created."""
    try:
        with session.begin_nested():
            conv = Conversation(
                organization_id=org.id,
                customer_id=customer.id,
                channel=channel,
                state=State.IDLE,
                slots={},
                created_at=now,
                updated_at=now,
            )
            session.add(conv)
            session.flush()
        return conv
    except IntegrityError:
        return session.scalars(
            select(Conversation).where(
                Conversation.organization_id == org.id,
                Conversation.customer_id == customer.id,
                Conversation.channel == channel,
            )
        ).one()


def _replies_to(session: Session, inbound_id: int) -> list[str]:
    rows = session.scalars(
        # Only the TwiML replies: those sent through the outbox (rows and buttons) were
        # sent once already and are not sent again.
        select(Message.body)
        .where(Message.reply_to_id == inbound_id, Message.status == MessageStatus.REPLY)
        .order_by(Message.id)
    )
    return list(rows)


def _name(profile_name: str | None) -> str | None:
    name = clean(profile_name or "").strip()
    return name[:200] or None
