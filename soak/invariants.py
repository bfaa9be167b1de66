"""The invariants the soak run must keep, each checked from the database and, where it is
about the outside world, the stand-ins' own logs. Each returns (passed, detail)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from bot.engine import FAILED_TURN_TITLE
from models import (
    HOLDING_STATUSES,
    RECEIVED_PAYMENT_STATUSES,
    SETTLED_MESSAGE_STATUSES,
    Booking,
    BookingStatus,
    Departure,
    Message,
    MessageStatus,
    Organization,
    Payment,
    PendingInbound,
    Refund,
    Task,
    TimelineEvent,
    WaitlistEntry,
)
from services import cancellations
from services.inventory import occupancy_many
from services.money import percent_of
from soak.journeys import Metrics
from soak.standins import StripeStandIn, TwilioStandIn

Result = tuple[bool, str]
FINAL = set(SETTLED_MESSAGE_STATUSES)


def oversold(session: Session, now: datetime) -> list[str]:
    departures = list(session.scalars(select(Departure)))
    occupancy = occupancy_many(session, departures, now)
    return [
        f"{d.code}: {occupancy[d.id].taken} > {d.capacity}"
        for d in departures
        if occupancy[d.id].taken > d.capacity
    ]


def never_oversold(
    session: Session, now: datetime, sampled_violations: list[str], samples: int
) -> Result:
    # Lapsed holds count until the sweep expires them, so check the booked seats alone
    # too: booked (paid) seats over capacity would be a real double sale.
    over = oversold(session, now)
    booked = session.execute(
        select(Departure.code, Departure.capacity, func.sum(Booking.seats))
        .join(Booking, Booking.departure_id == Departure.id)
        .where(Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.COMPLETED)))
        .group_by(Departure.code, Departure.capacity)
        .having(func.sum(Booking.seats) > Departure.capacity)
    ).all()
    problems = over + [f"{c}: booked {s} > {cap}" for c, cap, s in booked] + sampled_violations
    return not problems, (
        f"{samples} samples during the run and the end state: "
        + ("no departure over capacity" if not problems else "; ".join(problems[:5]))
    )


def inbound_answered_once(session: Session, metrics: Metrics) -> Result:
    """Every message posted is stored once and answered once by the bot: none still
    waiting for its answer, none the bot failed to answer (left for staff after three
    tries), and each turn has as many replies now as when its sender read them (an answer
    repeated later, by a job run twice or a repeated delivery, would add to them). Turns
    whose sender stopped waiting are counted apart (answered late: see the reply times)."""
    sids = list(metrics.sent_sids)
    stored = Counter(
        session.scalars(select(Message.provider_sid).where(Message.direction == "inbound"))
    )
    missing = [s for s in sids if stored[s] != 1]
    unanswered = session.scalar(select(func.count()).select_from(PendingInbound))
    left_for_staff = session.scalar(
        select(func.count()).select_from(Task).where(Task.title == FAILED_TURN_TITLE)
    )
    reply_counts = _reply_counts(session)
    read = metrics.turn_replies
    wrong = [s for s in read if reply_counts.get(s, 0) != read[s]]
    unread = len(sids) - len(read)
    ok = not (missing or unanswered or left_for_staff or wrong or metrics.duplicate_mismatches)
    return ok, (
        f"{len(sids)} inbound messages, {len(read)} turns read by their sender "
        f"({unread} answered after their sender stopped waiting); {len(missing)} not stored "
        f"exactly once; {unanswered} never answered; {left_for_staff} the bot failed to "
        f"answer (left for staff); {len(wrong)} with more or fewer replies now than their "
        f"sender read; {metrics.duplicate_mismatches} repeated deliveries answered differently"
    )


def _reply_counts(session: Session) -> dict[str, int]:
    """Each inbound message's replies to its sender (in the TwiML or through the REST
    API), by its MessageSid."""
    inbound = aliased(Message)
    return dict(
        session.execute(
            select(inbound.provider_sid, func.count(Message.id))
            .join(inbound, Message.reply_to_id == inbound.id)
            .where(Message.to_phone == inbound.from_phone)
            .group_by(inbound.provider_sid)
        )
        .tuples()
        .all()
    )


def outbound_sent_once(session: Session, twilio: TwilioStandIn) -> Result:
    rows = list(
        session.execute(
            select(
                Message.id,
                Message.status,
                Message.provider_sid,
                Message.error_message,
                Message.to_phone,
                Message.body,
            ).where(Message.direction == "outbound", Message.status != MessageStatus.REPLY)
        )
    )
    not_final = [r for r in rows if r.status not in FINAL]
    failed_silently = [r for r in rows if r.status == MessageStatus.FAILED and not r.error_message]
    ours = Counter(r.provider_sid for r in rows if r.provider_sid)
    theirs = Counter(s.sid for s in twilio.sent)
    unknown_to_us = [sid for sid in theirs if sid not in ours]
    lost = [sid for sid in ours if sid not in theirs]
    # The same text to the same person more often at Twilio than in our log = sent twice.
    bodies_ours = Counter((r.to_phone, r.body) for r in rows if r.provider_sid)
    bodies_theirs = Counter((s.to.split(":")[-1], s.body) for s in twilio.sent if not s.content_sid)
    doubled = sum(max(0, n - bodies_ours.get(k, 0)) for k, n in bodies_theirs.items())
    ok = not (not_final or failed_silently or unknown_to_us or lost or doubled)
    return ok, (
        f"{len(rows)} outbound rows, {len(twilio.sent)} accepted by the Twilio stand-in; "
        f"{len(not_final)} not final, {len(failed_silently)} failed without a reason, "
        f"{len(unknown_to_us)} sent but not recorded, {len(lost)} recorded but never sent, "
        f"{doubled} sent twice"
    )


def money_matches(session: Session, stripe: StripeStandIn) -> Result:
    payments = list(session.scalars(select(Payment)))
    by_session = Counter(p.checkout_session_id for p in payments if p.checkout_session_id)
    unmatched = [cs for cs in stripe.sessions if by_session.get(cs) != 1]
    refunds = {r.provider_refund_id for r in session.scalars(select(Refund))}
    refunds_unrecorded = [r["id"] for r in stripe.refunds if r["id"] not in refunds]
    problems: list[str] = []
    for booking in session.scalars(select(Booking)):
        paid = sum(
            p.amount_minor
            for p in payments
            if p.booking_id == booking.id and p.status in RECEIVED_PAYMENT_STATUSES
        )
        refunded = sum(p.refunded_minor for p in payments if p.booking_id == booking.id)
        kept = paid - refunded
        if kept != booking.paid_minor:
            problems.append(f"{booking.reference}: paid_minor {booking.paid_minor} but kept {kept}")
        if booking.status == BookingStatus.CONFIRMED and kept <= 0:
            problems.append(f"{booking.reference}: confirmed without money")
        if booking.status in (BookingStatus.EXPIRED, BookingStatus.WAITLISTED) and kept:
            problems.append(f"{booking.reference}: {booking.status} but {kept} kept")
        if booking.status == BookingStatus.CANCELLED and booking.cancelled_at is not None:
            # Keeping money is allowed only as far as the cancellation policy says.
            org = session.get(Organization, booking.organization_id)
            days = (booking.departure.starts_at - booking.cancelled_at).days
            rules = cancellations.policy_for(org, booking)
            percent = next((r.refund_percent for r in rules if days >= r.days_before), 0)
            allowed = paid - percent_of(paid, percent)
            if kept > allowed:
                problems.append(f"{booking.reference}: cancelled, kept {kept} > {allowed}")
    ok = not (unmatched or refunds_unrecorded or problems)
    return ok, (
        f"{len(stripe.sessions)} checkouts, {sum(1 for p in payments if p.status != 'pending')} "
        f"settled payments, {len(stripe.refunds)} refunds; {len(unmatched)} checkouts not matched "
        f"to exactly one payment, {len(refunds_unrecorded)} refunds unrecorded"
        + (f"; {'; '.join(problems[:5])}" if problems else "; every booking's money adds up")
    )


def timeline_complete(session: Session) -> Result:
    events: dict[str, list[tuple[str, dict]]] = {}
    for ref, kind, content in session.execute(
        select(TimelineEvent.object_ref, TimelineEvent.event_type, TimelineEvent.content)
        .where(TimelineEvent.object_type == "booking")
        .order_by(TimelineEvent.id)
    ):
        events.setdefault(ref, []).append((kind, content or {}))
    problems = []
    bookings = list(session.execute(select(Booking.reference, Booking.status)))
    for ref, status in bookings:
        seen = events.get(ref, [])
        created = any(k in ("booking.held", "booking.waitlisted") for k, _ in seen)
        last_change = next(
            (c.get("to") for k, c in reversed(seen) if k == "booking.status_changed"), None
        )
        initial = status in (BookingStatus.HELD, BookingStatus.WAITLISTED) and last_change is None
        if not created or not (initial or last_change == status):
            problems.append(f"{ref} is {status}, timeline says {last_change}")
    waiting = session.scalar(select(func.count()).select_from(WaitlistEntry))
    return not problems, (
        f"{len(bookings)} bookings ({waiting} waitlist entries): "
        + ("every status change is on the timeline" if not problems else "; ".join(problems[:5]))
    )


def one_booking_per_departure(session: Session) -> Result:
    """A second hold for the same customer and departure is never made (the bot changes
    the one it has), whatever the customer taps again."""
    live = (*HOLDING_STATUSES, BookingStatus.CONFIRMED)
    doubled = session.execute(
        select(Booking.customer_id, Booking.departure_id, func.count())
        .where(Booking.status.in_(live))
        .group_by(Booking.customer_id, Booking.departure_id)
        .having(func.count() > 1)
    ).all()
    held = session.scalar(select(func.count()).select_from(Booking).where(Booking.status.in_(live)))
    return not doubled, (
        f"{held} live bookings; {len(doubled)} customers with two or more on one departure"
    )


def turns_in_order(session: Session, twilio: TwilioStandIn) -> Result:
    """A WhatsApp turn's replies sent through the REST API (with its rows or buttons)
    reach Twilio in the order the bot said them, and Twilio refused none as invalid."""
    accepted = {sent.sid: n for n, sent in enumerate(twilio.sent)}
    turns: dict[int, list[str | None]] = {}
    for reply_to, sid in session.execute(
        select(Message.reply_to_id, Message.provider_sid)
        .where(
            Message.direction == "outbound",
            Message.kind == "reply",
            Message.status != MessageStatus.REPLY,
            Message.reply_to_id.is_not(None),
        )
        .order_by(Message.id)
    ):
        turns.setdefault(reply_to, []).append(sid)
    out_of_order = [
        reply_to
        for reply_to, sids in turns.items()
        if [accepted.get(s or "", -1) for s in sids]
        != sorted(accepted.get(s or "", -1) for s in sids)
    ]
    content = sum(1 for sent in twilio.sent if sent.content_sid)
    replies = sum(len(sids) for sids in turns.values())
    return not out_of_order and not twilio.refused_content, (
        f"{len(turns)} turns answered through the REST API ({replies} replies, {content} "
        f"messages with content accepted); {len(out_of_order)} turns out of order; "
        f"{len(twilio.refused_content)} content messages refused as invalid"
        + (f" ({'; '.join(twilio.refused_content[:3])})" if twilio.refused_content else "")
    )
