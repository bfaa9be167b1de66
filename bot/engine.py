"""Handles one inbound message end to end: deduplication, opt-out keywords, the handoff
silence, an open waitlist offer, then NLU and the state machine. Returns the replies for
the sender; everything else goes through the outbox in the same transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import (  # noqa: F401 (booking_requests and enquiries register handlers)
    booking_requests,
    enquiries,
    guides,
    keywords,
)
from bot.handlers import HANDLERS, waitlist_reply
from bot.replies import MENU
from bot.states import INFORM, State, handler_for
from bot.turn import Turn
from intents import NLU, context_for_org
from intents.pipeline import clean
from models import (
    OPEN_LEAD_STATUSES,
    Booking,
    Conversation,
    Customer,
    Guide,
    Message,
    Organization,
    OrganizationNumber,
    WaitlistEntry,
    WaitlistStatus,
)
from services import leads
from services.customers import add_customer, fill_in_contact

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
    location: str | None = None  # a shared pin, as text with a map link


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


def handle_inbound(
    session: Session, sender: Sender, msg: Inbound, nlu: NLU, now: datetime
) -> list[str]:
    """Records the message and returns the replies for the sender. A repeated MessageSid
    raises IntegrityError at once (see _record), before anything else is done."""
    org = sender.org
    if sender.guide_id is not None:
        # Guides are staff: their messages are commands, logged without a conversation.
        guide = session.get_one(Guide, sender.guide_id)
        inbound = _record(session, org, msg, now, kind="guide", conversation_id=None)
        return _reply(
            session, org, msg, inbound, guides.handle(session, org, guide, inbound.body, now), now
        )

    name = _name(msg.profile_name)
    customer, created = sender.customer, False
    if customer is None:
        customer, created = add_customer(session, org, msg.from_phone, now, name=name)
    else:
        fill_in_contact(customer, name=name)
    conv = sender.conversation or _conversation(session, org, customer, msg.channel, now)
    inbound = _record(session, org, msg, now, kind="customer", conversation_id=conv.id)
    had_history = (
        None if created else (conv.last_message_at is not None or conv.lead_id is not None)
    )
    replies = _answer(session, org, conv, customer, inbound, nlu, now, had_history)
    # After the answer, so the conversation gets one UPDATE with the turn's own changes.
    conv.last_inbound_at = conv.last_message_at = now
    conv.unread_count += 1
    if conv.status == "resolved":
        conv.status = "open"
    return _reply(session, org, msg, inbound, replies, now)


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
_LOG_INBOUND = _MESSAGES.insert().returning(_MESSAGES.c.id)
_LOG_REPLY = _MESSAGES.insert()


def _record(
    session: Session,
    org: Organization,
    msg: Inbound,
    now: datetime,
    *,
    kind: str,
    conversation_id: int | None,
) -> Logged:
    # A shared location has no body: the pin, as text, is what the log and the staff see.
    body = clean(msg.body if msg.body.strip() or not msg.location else msg.location)
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
            "status": "received",
            "kind": kind,
            "provider_sid": msg.provider_sid,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    return Logged(message_id, conversation_id, body, msg.media, msg.location is not None)


def _reply(
    session: Session,
    org: Organization,
    msg: Inbound,
    inbound: Logged,
    replies: list[str],
    now: datetime,
) -> list[str]:
    """The replies go back in the TwiML; they are logged as such, linked to the message."""
    if replies:
        session.execute(
            _LOG_REPLY,
            [
                {
                    "organization_id": org.id,
                    "conversation_id": inbound.conversation_id,
                    "direction": "outbound",
                    "channel": msg.channel,
                    "from_phone": msg.to_phone,
                    "to_phone": msg.from_phone,
                    "body": text,
                    "status": "reply",
                    "kind": "reply",
                    "reply_to_id": inbound.id,
                    "created_at": now,
                    "updated_at": now,
                }
                for text in replies
            ],
        )
    return replies


def _answer(
    session: Session,
    org: Organization,
    conv: Conversation,
    customer: Customer,
    inbound: Logged,
    nlu: NLU,
    now: datetime,
    had_history: bool | None,
) -> list[str]:
    text = inbound.body
    word = keywords.keyword(text)

    if word in keywords.OPT_OUT:
        customer.opted_out, customer.opted_out_at = True, now
        # On SMS, Twilio blocks the number and confirms by itself; WhatsApp is ours to do.
        return (
            []
            if conv.channel == "sms"
            else [
                f"You've been unsubscribed from {org.name} messages. "
                "Reply START to subscribe again."
            ]
        )
    if word in keywords.OPT_IN:
        customer.opted_out, customer.opted_out_at = False, None
        return [f"You're subscribed to {org.name} messages again. {MENU}"]
    if customer.opted_out:
        return []  # nothing but the confirmation for someone who opted out
    if word in keywords.HELP:
        support = org.settings.support_phone or org.owner_phone or ""
        return [
            f"{org.name}: {MENU}"
            + (f"\nTo reach a person call {support}." if support else "")
            + "\nReply STOP to unsubscribe."
        ]
    if word in keywords.RESET:
        conv.state, conv.slots, conv.handoff = State.IDLE, {}, False
        return [MENU]
    if conv.handoff or conv.state == State.HANDOFF:
        conv.status = "pending"  # a person has taken over: waiting for their reply
        return []

    if not text.strip() and inbound.media:
        return ["Thanks, we've received your file. A team member will look at it. " + MENU]
    if inbound.location:
        return _location_reply(session, conv, customer, inbound, now)

    result = nlu.parse(text, context_for_org(session, org, now))
    # Returning customer: wrote on this channel before, or has bookings (checked only when
    # it is not already known, since most messages do not need it).
    returning = had_history if had_history is not None else False
    if had_history is False:
        returning = _has_bookings(session, customer)
    turn = Turn(session, org, conv, customer, text, result, now, returning=returning)
    if word in keywords.AGENT:
        result.intent = "human_handoff"

    maybe_offer_reply = word in keywords.OFFER_YES | keywords.OFFER_NO or result.intent in (
        "affirm",
        "deny",
    )
    offer = _open_offer(session, customer, now) if maybe_offer_reply else None
    if offer is not None and (
        word in keywords.OFFER_YES | keywords.OFFER_NO or result.intent in ("affirm", "deny")
    ):
        waitlist_reply(
            turn,
            offer,
            accept=word in keywords.OFFER_YES
            or (result.intent == "affirm" and word not in keywords.OFFER_NO),
        )
        return turn.finish()

    told = turn.absorb_entities()
    name = handler_for(turn.state, result.intent)
    if name == "menu" and told:
        # Not a request we know, but it names a tour, a date or a party ("2 adults and a
        # child, vegetarian"): the customer is answering or correcting, not lost.
        name = handler_for(turn.state, INFORM)
    if turn.state == State.NEED_PARTY and turn.party_from_message():
        name = "take_party"
    elif (
        turn.state == State.CHOOSING
        and isinstance(result.entity("option"), int)
        and result.intent
        in ("nlu_fallback", "choose_option", "book", "hold", "affirm", "check_availability")
    ):
        name = "choose_departure"
    HANDLERS[name](turn)
    return turn.finish()


def _location_reply(
    session: Session, conv: Conversation, customer: Customer, inbound: Logged, now: datetime
) -> list[str]:
    """A pin (a hotel for pickup, where they are): on the open enquiry for the rep, since
    the bot itself has no use for coordinates."""
    lead = conv.lead
    if lead is None or lead.status not in OPEN_LEAD_STATUSES:
        return ["Thanks for the location; a team member will see it. " + MENU]
    leads.add_details(
        session, lead, inbound.body, now, actor=f"customer:{customer.phone}", source=conv.channel
    )
    return [
        f"Thanks, I've added your location to your enquiry {lead.reference}. "
        "Reply MENU for anything else."
    ]


def _open_offer(session: Session, customer: Customer, now: datetime) -> WaitlistEntry | None:
    return session.scalar(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.customer_id == customer.id,
            WaitlistEntry.status == WaitlistStatus.OFFERED,
            WaitlistEntry.offer_expires_at > now,
        )
        .order_by(WaitlistEntry.offered_at.desc())
    )


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


def _has_bookings(session: Session, customer: Customer) -> bool:
    return (
        session.scalar(select(Booking.id).where(Booking.customer_id == customer.id).limit(1))
        is not None
    )


def _replies_to(session: Session, inbound_id: int) -> list[str]:
    rows = session.scalars(
        select(Message.body).where(Message.reply_to_id == inbound_id).order_by(Message.id)
    )
    return list(rows)


def _name(profile_name: str | None) -> str | None:
    name = clean(profile_name or "").strip()
    return name[:200] or None
