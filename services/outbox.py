"""The outbox: every outbound message is a row in the communications log before anything
is sent. Replies to the current sender go back in the webhook's TwiML; everything else is
delivered by a job once the caller commits with commit_and_send, retried with back-off on
429 and 5xx, and re-sent by the sweep if Redis or Twilio was down when it was due (or the
transaction was committed some other way).

Rules kept here, once, for every sender (bot, staff, jobs):
- an opted-out customer gets nothing (status "suppressed");
- WhatsApp free text only within 24 hours of the customer's last message; outside it the
  approved template for the message's purpose and language, else the organization's
  generic approved template, else SMS to a customer who has written to us by SMS, or
  "needs_template" for staff to handle;
- a status never moves backwards ("sent" arriving after "read" changes nothing).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models import (
    DUE_MESSAGE_STATUSES,
    Channel,
    Conversation,
    Customer,
    Message,
    MessageStatus,
    Organization,
    OrganizationNumber,
    utcnow,
)
from services import approval_links, message_costs, message_states
from services.job_queue import JobQueue
from services.phones import format_address
from services.runtime import Runtime
from services.transports import Outgoing, TransportError, transport_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (30, 120, 600, 1800)
WHATSAPP_WINDOW = timedelta(hours=24)
SMS_LIMIT = 1600
# A row that is due is re-sent by the sweep only after this long, so the sweep does not
# race the job that was enqueued when the row was committed.
REQUEUE_GRACE = timedelta(minutes=1)
# A message waits for an earlier one to the same person that is being retried, at most as
# long as that one's own tries can last (30 s + 2 + 10 + 30 min); one older than this holds
# nothing up. A waiting message's own next try is just after the earlier one's.
ORDER_WAIT = timedelta(hours=1)
ORDER_SLACK = timedelta(seconds=5)
# Recording a message Twilio has accepted is retried this many times (0.5 s, 1 s, 2 s...).
RECORD_TRIES = 5
# In session.info: (id, row) of each message queued in the session and not yet handed to a
# delivery job (commit_and_send does that).
PENDING = "outbox_pending"
# In session.info: lists of (id, row) to be delivered in order by one job each (a turn's
# replies that carry WhatsApp rows or buttons).
PENDING_SEQUENCES = "outbox_pending_sequences"


@dataclass(frozen=True)
class Reply:
    """One reply of a turn sent through the outbox: its words (what SMS, the log and staff
    see) and, for WhatsApp rows or buttons, the content and its variables."""

    body: str
    content_sid: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


def split_body(body: str, limit: int = SMS_LIMIT) -> list[str]:
    """Splits a long message at line breaks (words if a line alone is too long)."""
    body = body.strip()
    if len(body) <= limit:
        return [body] if body else []
    chunks: list[str] = []
    current = ""
    for line in body.split("\n"):
        pieces = [line]
        if len(line) > limit:
            pieces, piece = [], ""
            for word in line.split(" "):
                while len(word) > limit:
                    pieces.append(word[:limit])
                    word = word[limit:]
                if len(piece) + len(word) + 1 > limit:
                    pieces.append(piece)
                    piece = word
                else:
                    piece = f"{piece} {word}" if piece else word
            pieces.append(piece)
        for piece in pieces:
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) > limit:
                chunks.append(current)
                current = piece
            else:
                current = candidate
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def sending_number(session: Session, org: Organization, channel: str) -> str | None:
    # Read once per transaction: one webhook can queue several notifications.
    known: dict[tuple[int, str], str | None] = session.info.setdefault("sending_numbers", {})
    if (org.id, channel) not in known:
        known[(org.id, channel)] = session.scalar(
            select(OrganizationNumber.phone)
            .where(
                OrganizationNumber.organization_id == org.id,
                OrganizationNumber.channel == channel,
            )
            .order_by(OrganizationNumber.id)
        )
    return known[(org.id, channel)]


def window_open(session: Session, org: Organization, phone: str, now: datetime) -> bool:
    """Whether WhatsApp still allows free text to this customer (24 h after their last
    message)."""
    last = session.scalar(
        select(Conversation.last_inbound_at)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(
            Conversation.organization_id == org.id,
            Conversation.channel == Channel.WHATSAPP,
            Customer.phone == phone,
        )
    )
    return last is not None and now - last < WHATSAPP_WINDOW


def sms_conversation(
    session: Session, org: Organization, customer: Customer
) -> Conversation | None:
    """The customer's SMS conversation if they have written to us by SMS: they have agreed
    to hear from us that way (a WhatsApp message that cannot go falls back to it)."""
    return session.scalar(
        select(Conversation).where(
            Conversation.organization_id == org.id,
            Conversation.customer_id == customer.id,
            Conversation.channel == Channel.SMS,
            Conversation.last_inbound_at.is_not(None),
        )
    )


def queue(
    session: Session,
    org: Organization,
    to_phone: str,
    body: str,
    now: datetime,
    *,
    channel: str = Channel.SMS,
    kind: str = "notification",
    conversation: Conversation | None = None,
    template_fields: dict[str, str] | None = None,
    force: bool = False,
    sent_by_id: int | None = None,
    content: tuple[str, dict[str, str]] | None = None,
    template: tuple[str, dict[str, str]] | None = None,
    sms_fallback: bool = True,
    booking_id: int | None = None,
    category: str | None = None,
    persistent_action: list[str] | None = None,
) -> list[Message]:
    """Records messages to send to someone other than the current sender; a job sends them
    once the caller commits with commit_and_send. Returns the rows (one per 1,600-character
    part). sms_fallback: a WhatsApp message that no template can carry goes by SMS to a
    customer who has written to us by SMS (False: the caller sends the SMS itself).
    booking_id: the booking it is about (services/message_costs.py counts it there);
    category: what it is billed as, when not what the channel and window make it (a
    marketing message); persistent_action: a WhatsApp map pin with the words
    (["geo:LAT,LON|LABEL"]), dropped when a template or SMS carries the message."""
    customer = session.scalar(
        select(Customer).where(Customer.organization_id == org.id, Customer.phone == to_phone)
    )
    from_phone = sending_number(session, org, channel)
    if from_phone is None and channel == Channel.WHATSAPP:
        channel, from_phone = Channel.SMS, sending_number(session, org, Channel.SMS)
    status, template_sid, variables = MessageStatus.QUEUED, None, {}
    inside = True  # WhatsApp's 24-hour window
    if customer is not None and customer.opted_out and not force:
        status = MessageStatus.SUPPRESSED
    elif from_phone is None:
        status = MessageStatus.FAILED
    elif channel == Channel.WHATSAPP and not window_open(session, org, to_phone, now):
        inside = False
        generic = org.settings.whatsapp_template
        if template is not None:
            # The approved template for this purpose and language
            # (services/whatsapp_templates.py), filled by the caller.
            template_sid, variables = template[0], dict(template[1])
        elif generic is None:
            fallback = (
                sms_conversation(session, org, customer)
                if sms_fallback and customer is not None and kind != "staff"
                else None
            )
            sms_from = sending_number(session, org, Channel.SMS) if fallback else None
            if fallback is not None and sms_from:
                channel, from_phone, conversation = Channel.SMS, sms_from, fallback
            else:
                status = MessageStatus.NEEDS_TEMPLATE
        else:
            fields = {
                "customer_name": (customer.name if customer and customer.name else "there"),
                "summary": body.split("\n", 1)[0][:200],
                **(template_fields or {}),
            }
            template_sid = generic.content_sid
            variables = {num: fields.get(name, "") for num, name in generic.variables.items()}
    elif channel == Channel.WHATSAPP and content is not None:
        # Rows or buttons (services.whatsapp_content), inside the window; body stays the
        # words, for the log and in case WhatsApp refuses them.
        template_sid, variables = content[0], dict(content[1])
    parts = [body] if template_sid else split_body(body)
    billed_as = category or message_costs.category_of(
        channel, template_sid or (None if inside else "template"), inside
    )
    pin = (
        list(persistent_action)
        if persistent_action and channel == Channel.WHATSAPP and not template_sid
        else None
    )
    rows = []
    for n, part in enumerate(parts):
        units, country = message_costs.billing(channel, billed_as, template_sid, to_phone, part)
        row = Message(
            organization_id=org.id,
            conversation_id=conversation.id if conversation else None,
            direction="outbound",
            channel=channel,
            from_phone=from_phone or "",
            to_phone=to_phone,
            body=part,
            status=status,
            kind=kind,
            sent_by_id=sent_by_id,
            template_sid=template_sid,
            template_variables=variables,
            category=billed_as,
            units=units,
            country=country,
            booking_id=booking_id,
            persistent_action=pin if n == 0 else None,
            error_message="organization has no number on this channel"
            if from_phone is None
            else None,
            next_attempt_at=now if status == MessageStatus.QUEUED else None,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    pending = session.info.setdefault(PENDING, [])
    pending += [(r.id, r) for r in rows if r.status == MessageStatus.QUEUED]
    return rows


def queue_replies(
    session: Session,
    org: Organization,
    conversation_id: int | None,
    inbound_id: int,
    *,
    channel: str,
    from_phone: str,
    to_phone: str,
    replies: list[Reply],
    now: datetime,
) -> list[Message]:
    """A turn's replies to whoever just wrote, sent through the REST API (rows and buttons
    cannot travel in TwiML; and a worker's answer comes after the webhook's): logged as
    replies to their message, delivered in order by one job once the caller commits.
    Inside WhatsApp's 24-hour window by definition."""
    rows = []
    category = message_costs.SMS if channel == Channel.SMS else message_costs.SERVICE
    for reply in replies:
        for part in [reply.body] if reply.content_sid else split_body(reply.body):
            units, country = message_costs.billing(
                channel, category, reply.content_sid, to_phone, part
            )
            row = Message(
                organization_id=org.id,
                conversation_id=conversation_id,
                direction="outbound",
                channel=channel,
                from_phone=from_phone,
                to_phone=to_phone,
                body=part,
                status=MessageStatus.QUEUED,
                kind="reply",
                reply_to_id=inbound_id,
                template_sid=reply.content_sid,
                template_variables=dict(reply.variables),
                category=category,
                units=units,
                country=country,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            rows.append(row)
    session.flush()
    session.info.setdefault(PENDING_SEQUENCES, []).append([(r.id, r) for r in rows])
    return rows


def commit_and_send(session: Session, jobs: JobQueue, replies_now: Runtime | None = None) -> None:
    """Commits the caller's transaction, then hands each message it queued to a delivery
    job. Every commit that may follow outbox.queue goes through here: the messages leave
    when the data they speak of is committed, never before. A message committed without
    its job (Redis down, or a plain commit) is still due, and the sweep sends it.

    replies_now: the turn's replies (queue_replies) are sent here and now with this
    runtime, not by a job: a worker answering a customer (bot/inbound.py) sends them while
    it holds that customer's lock, so one turn's replies leave before the next turn's."""
    send_committed(session, jobs, commit_queued(session), replies_now)


@dataclass(frozen=True)
class Committed:
    """What a commit_queued commit queued, for send_committed."""

    messages: list[tuple[int, Message]]
    sequences: list[list[tuple[int, Message]]]


def commit_queued(session: Session) -> Committed:
    """commit_and_send's first half, the commit, for a caller that must tell a failure of
    the commit (nothing happened) from one of the sending (done; the sweep sends)."""
    committed = Committed(session.info.pop(PENDING, []), session.info.pop(PENDING_SEQUENCES, []))
    session.info.pop("sending_numbers", None)  # read afresh by the next transaction
    session.commit()
    return committed


def send_committed(
    session: Session, jobs: JobQueue, committed: Committed, replies_now: Runtime | None = None
) -> None:
    """commit_and_send's second half: every message committed is due already."""
    for message_id, row in committed.messages:
        # A row rolled back with its SAVEPOINT (a refused hold, say) or with an earlier
        # rollback of the whole transaction was never committed: nothing to send.
        if not inspect(row).persistent:
            continue
        try:
            jobs.enqueue(deliver_job, message_id)
        except Exception as exc:  # Redis down: the row stays due and the sweep sends it
            log.warning("could not enqueue message %s (%s); the sweep will retry", message_id, exc)
    for sequence in committed.sequences:
        ids = [message_id for message_id, row in sequence if inspect(row).persistent]
        if not ids:
            continue
        if replies_now is not None:
            deliver_sequence(session, ids, replies_now)
            continue
        try:
            jobs.enqueue(deliver_sequence_job, ids)
        except Exception as exc:
            log.warning("could not enqueue messages %s (%s); the sweep will retry", ids, exc)


def _interactive_in_window(
    session: Session, org: Organization, row: Message, now: datetime
) -> bool:
    """Rows or buttons sent inside the 24-hour window (not the approved template used
    outside it): words can replace them."""
    if not row.template_sid or row.channel != Channel.WHATSAPP:
        return False
    template = org.settings.whatsapp_template
    if template is not None and row.template_sid == template.content_sid:
        return False
    return row.kind == "reply" or window_open(session, org, row.to_phone, now)


def deliver_sequence_job(runtime: Runtime, message_ids: list[int]) -> list[str]:
    """Sends a turn's replies one after the other, so they arrive in the order said."""
    with runtime.sessions() as session:
        return deliver_sequence(session, message_ids, runtime)


def deliver_sequence(session: Session, message_ids: list[int], runtime: Runtime) -> list[str]:
    return [deliver(session, message_id, utcnow(), runtime) for message_id in message_ids]


def deliver_job(runtime: Runtime, message_id: int) -> str:
    """Sends one outbox row. Safe to run twice: the row is locked and only a due row is sent."""
    with runtime.sessions() as session:
        return deliver(session, message_id, utcnow(), runtime)


def deliver(session: Session, message_id: int, now: datetime, runtime: Runtime) -> str:
    row = session.scalar(
        select(Message).where(Message.id == message_id).with_for_update(skip_locked=True)
    )
    if row is None or row.status not in DUE_MESSAGE_STATUSES:
        session.rollback()
        return "skipped"
    org = session.get(Organization, row.organization_id)
    assert org is not None
    customer = session.scalar(
        select(Customer).where(Customer.organization_id == org.id, Customer.phone == row.to_phone)
    )
    if (
        customer is not None
        and customer.opted_out
        and not _answers_since_opt_out(session, row, customer)
    ):
        message_states.transition(row, MessageStatus.SUPPRESSED, now)
        session.commit()
        return row.status
    blocker = _earlier_being_retried(session, row, now)
    if blocker is not None:
        # Order per person: this one waits for the earlier message, which sends it (or
        # the sweep, after that one's next try) once that one is sent or has failed.
        row.next_attempt_at = max(blocker, now) + ORDER_SLACK
        session.commit()
        return "waiting"
    was_retried = row.attempts > 0
    config = runtime.config
    callback = (
        f"{config.PUBLIC_BASE_URL.rstrip('/')}/webhooks/twilio/status"
        if config.PUBLIC_BASE_URL
        else None
    )
    outgoing = Outgoing(
        row.id,
        format_address(row.channel, row.from_phone),
        format_address(row.channel, row.to_phone),
        # The owner's approval link is made now; the stored body has only its marker.
        approval_links.expand(session, row.body, config),
        row.template_sid,
        row.template_variables or None,
        callback,
        row.persistent_action or None,
    )
    row.attempts += 1
    try:
        row.provider_sid = transport_for(config).send(outgoing)
    except TransportError as exc:
        row.error_code, row.error_message = exc.code, str(exc)[:500]
        if not exc.retryable and _interactive_in_window(session, org, row, now):
            # WhatsApp refused the rows or buttons (content gone, or not allowed here): the
            # customer still gets the question, as words, at once.
            log.warning("message %s: content refused (%s); sent as text", row.id, exc)
            row.template_sid, row.template_variables = None, {}
            session.commit()
            return deliver(session, message_id, now, runtime)
        if exc.retryable and row.attempts < MAX_ATTEMPTS:
            delay = BACKOFF_SECONDS[min(row.attempts - 1, len(BACKOFF_SECONDS) - 1)]
            message_states.transition(row, MessageStatus.RETRYING, now)
            row.next_attempt_at = now + timedelta(seconds=delay)
        else:
            message_states.transition(row, MessageStatus.FAILED, now)
            row.next_attempt_at = None
        session.commit()
        if row.status == MessageStatus.RETRYING:
            _schedule_retry(runtime, row.id, delay)
        log.warning("message %s %s after attempt %s: %s", row.id, row.status, row.attempts, exc)
        status = row.status
        if status == MessageStatus.FAILED and was_retried:
            _send_those_waiting(session, row, runtime)  # failed for good: the rest go
        return status
    sid = row.provider_sid
    message_states.transition(row, MessageStatus.SENT, now)
    row.sent_at, row.next_attempt_at = now, None
    row.error_code = row.error_message = None
    try:
        session.commit()
    except DBAPIError:
        # Twilio has the message; if this row stayed "queued" the sweep would send it a
        # second time (found by the soak run, with pg_terminate_backend). Record it on a
        # fresh connection instead.
        session.rollback()
        _record_sent(runtime, message_id, sid, row.attempts, now)
    if was_retried:
        _send_those_waiting(session, row, runtime)
    return "sent"


def _answers_since_opt_out(session: Session, row: Message, customer: Customer) -> bool:
    """An answer to a message written at or after STOP goes (the state machine chose it, as
    it chose the TwiML ones: "you are unsubscribed" on WhatsApp); one to a message from
    before it, due late (a retry, a lost job), does not."""
    if row.kind == "optout":
        return True
    if row.kind != "reply" or customer.opted_out_at is None:
        return False
    asked_at = (
        session.scalar(select(Message.created_at).where(Message.id == row.reply_to_id))
        if row.reply_to_id is not None
        else None
    )
    return (asked_at or row.created_at) >= customer.opted_out_at


def _earlier_being_retried(session: Session, row: Message, now: datetime) -> datetime | None:
    """When the next try is due of an earlier message to the same person on the same
    channel that is being retried (a 429 or a 500 from Twilio): this one must not overtake
    it. One older than ORDER_WAIT holds nothing up (its retries should be over by then)."""
    return session.scalar(
        select(Message.next_attempt_at)
        .where(
            Message.organization_id == row.organization_id,
            Message.to_phone == row.to_phone,
            Message.created_at >= now - ORDER_WAIT,
            Message.id < row.id,
            Message.channel == row.channel,
            Message.direction == "outbound",
            Message.status == MessageStatus.RETRYING,
        )
        .order_by(Message.id)
        .limit(1)
    )


def _send_those_waiting(session: Session, earlier: Message, runtime: Runtime) -> None:
    """After a message that was retried is sent or has failed for good: the later ones to
    the same person that waited for it, in order (each waits again behind any other one
    still being retried)."""
    waiting = list(
        session.scalars(
            select(Message.id)
            .where(
                Message.organization_id == earlier.organization_id,
                Message.to_phone == earlier.to_phone,
                Message.id > earlier.id,
                Message.channel == earlier.channel,
                Message.direction == "outbound",
                Message.status.in_(DUE_MESSAGE_STATUSES),
            )
            .order_by(Message.id)
        )
    )
    session.rollback()
    for message_id in waiting:
        if deliver(session, message_id, utcnow(), runtime) in ("waiting", MessageStatus.RETRYING):
            return  # the rest wait behind that one


def _record_sent(
    runtime: Runtime, message_id: int, sid: str | None, attempts: int, now: datetime
) -> None:
    for attempt in range(RECORD_TRIES):
        try:
            with runtime.sessions.begin() as session:
                # Core, on a fresh connection, because the ORM session that sent it failed
                # to commit. Only QUEUED/RETRYING -> SENT, a move message_states allows
                # (tests/test_status_writes.py checks), and only if still due, so a
                # delivery report recorded meanwhile is never moved back.
                session.execute(
                    update(Message)
                    .where(Message.id == message_id, Message.status.in_(DUE_MESSAGE_STATUSES))
                    .values(
                        status=MessageStatus.SENT,
                        provider_sid=sid,
                        attempts=attempts,
                        sent_at=now,
                        updated_at=now,
                        next_attempt_at=None,
                        error_code=None,
                        error_message=None,
                    )
                )
            return
        except DBAPIError as exc:
            log.warning("message %s sent as %s but not yet recorded (%s)", message_id, sid, exc)
            time.sleep(0.5 * 2**attempt)
    log.error(
        "message %s sent as %s could not be recorded; the sweep may send it again", message_id, sid
    )


def _schedule_retry(runtime: Runtime, message_id: int, delay: int) -> None:
    try:
        # Without Redis nothing is scheduled: the in-process sweep picks it up when due.
        JobQueue.of(runtime).enqueue_in(timedelta(seconds=delay), deliver_job, message_id)
    except Exception as exc:
        log.warning("could not schedule retry of message %s (%s); the sweep will", message_id, exc)


def due_messages(session: Session, now: datetime) -> list[int]:
    """Rows that should have been sent by now: their job was lost (Redis down) or their
    retry time has come."""
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.status.in_(DUE_MESSAGE_STATUSES),
                Message.next_attempt_at <= now - REQUEUE_GRACE,
            )
            .order_by(Message.id)
            .limit(1000)
        )
    )


def apply_status(
    session: Session, row: Message, status: str, error_code: str | None, now: datetime
) -> bool:
    """A delivery report. Returns False (and changes nothing) when it would move backwards."""
    if not message_states.report(row, status, now):
        return False
    if error_code:
        row.error_code = error_code[:16]
    return True


def staff_address(session: Session, org: Organization, phone: str) -> dict[str, Any]:
    """Staff, guides and owners are reached by SMS when the organization has an SMS number."""
    channel = Channel.SMS if sending_number(session, org, Channel.SMS) else Channel.WHATSAPP
    return {"channel": channel}
