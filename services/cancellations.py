"""Cancelling with money involved: a customer's booking under the cancellation policy, and a
whole departure (weather, a road closed) with full refunds, every guest told on every
channel we have for them, and a call list of those we could not reach."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    CANCELLABLE_STATUSES,
    REACHING_MESSAGE_STATUSES,
    UNDELIVERED_MESSAGE_STATUSES,
    Booking,
    Channel,
    Conversation,
    Departure,
    DepartureCancellation,
    DepartureStatus,
    Message,
    MessageStatus,
    Organization,
    Payment,
    PaymentStatus,
)
from models.settings import RefundRule
from services import bookings, departure_states, notify, outbox, phrases, refunds
from services.errors import ServiceError
from services.i18n import N_, Voice, customer_voice, guide_voice
from services.money import percent_of
from services.payments import StripeAccount


class CancellationError(ServiceError):
    pass


# How a departure's cancellation refunds its bookings (cancel_departure's refund=).
REFUND_RULES = ("full", "policy", "none")
PLACEHOLDER = re.compile(r"\{(name|reference|tour|when|refund)\}")


@dataclass(frozen=True)
class RefundQuote:
    percent: Decimal
    amount_minor: int
    days_before: int


def policy_for(org: Organization, booking: Booking) -> list[RefundRule]:
    tour_policy = booking.departure.tour.cancellation_policy
    rules = (
        [RefundRule.model_validate(r) for r in tour_policy]
        if tour_policy is not None
        else org.settings.cancellation_policy
    )
    return sorted(rules, key=lambda r: -r.days_before)


def refund_quote(org: Organization, booking: Booking, now: datetime) -> RefundQuote:
    """What cancelling now gives back: the first rule whose notice the customer meets."""
    days = (booking.departure.starts_at - now).days
    percent = next(
        (r.refund_percent for r in policy_for(org, booking) if days >= r.days_before), Decimal(0)
    )
    return RefundQuote(percent, percent_of(booking.paid_minor, percent), days)


def describe(voice: Voice, booking: Booking, quote: RefundQuote) -> str:
    """What cancelling now gives back, in the customer's words (staff read it in English)."""
    if booking.paid_minor == 0:
        return voice._("Nothing has been paid, so there is nothing to refund.")
    return voice.n_(
        "Under our policy you get {amount} back ({percent}% of {paid} paid, {n} day before).",
        "Under our policy you get {amount} back ({percent}% of {paid} paid, {n} days before).",
        quote.days_before,
        amount=voice.money(quote.amount_minor, booking.currency),
        percent=voice.number(quote.percent),
        paid=voice.money(booking.paid_minor, booking.currency),
    )


def _refund(
    session: Session,
    org: Organization,
    booking: Booking,
    amount: int,
    reason: str,
    now: datetime,
    stripe: StripeAccount,
) -> int:
    """Refunds up to amount across the booking's paid payments, largest first."""
    left = amount
    # Locked, so what is left of each is read after any refund being made at the same time.
    paid = session.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.PAID)
        .order_by(Payment.amount_minor.desc())
        .with_for_update()
    ).all()
    for payment in paid:
        if left <= 0:
            break
        part = min(left, payment.amount_minor - payment.refunded_minor)
        if part > 0:
            refunds.refund(session, org, payment, part, reason, now, stripe=stripe)
            left -= part
    return amount - left


def cancel_with_refund(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    reason: str,
    stripe: StripeAccount,
    actor: str = "system",
    source: str = "system",
    full_refund: bool = False,
) -> int:
    """Cancels, frees the seats (bookings.cancel_and_free_seats: the waitlist gets its offer)
    and refunds by the policy, or in full when we are the ones cancelling. Returns the amount
    refunded."""
    if booking.status not in CANCELLABLE_STATUSES:
        raise CancellationError(
            N_("{reference} is {status} and cannot be cancelled."),
            reference=booking.reference,
            status=phrases.status(booking.status),
        )
    amount = booking.paid_minor if full_refund else refund_quote(org, booking, now).amount_minor
    bookings.cancel_and_free_seats(
        session, org, booking, now, reason=reason, actor=actor, source=source
    )
    return _refund(session, org, booking, amount, reason, now, stripe) if amount else 0


def affected(session: Session, departure: Departure) -> tuple[int, int]:
    """How many bookings and people cancelling the departure would reach."""
    bookings, people = session.execute(
        select(func.count(), func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.departure_id == departure.id, Booking.status.in_(CANCELLABLE_STATUSES)
        )
    ).one()
    return int(bookings), int(people)


def cancel_departure(
    session: Session,
    org: Organization,
    departure: Departure,
    reason: str,
    now: datetime,
    *,
    stripe: StripeAccount,
    actor: str = "ops",
    refund: str = "full",
    own_message: str | None = None,
    batch: str | None = None,
) -> DepartureCancellation:
    """Cancels the departure and every booking on it, refunds by the rule chosen (full: we
    cancelled, everything back; policy: the cancellation policy; none: nothing now, staff
    settle it), tells each customer on every channel we have for them (in their language,
    or the staff's own words when given: own_message with {name}, {reference}, {tour},
    {when}, {refund}) and the guide, and lists whom staff must call."""
    if refund not in REFUND_RULES:
        raise CancellationError(f"Refund rule must be one of {', '.join(REFUND_RULES)}.")
    if departure.status == DepartureStatus.CANCELLED:
        existing = session.scalar(
            select(DepartureCancellation).where(DepartureCancellation.departure_id == departure.id)
        )
        if existing is not None:
            return existing  # pressing the button twice changes nothing
    if departure.status in (DepartureStatus.STARTED, DepartureStatus.COMPLETED):
        raise CancellationError(
            f"{departure.code} is {departure.status}; it can no longer be cancelled."
        )
    # First, so the seats the cancelled bookings free are not offered to the waitlist.
    event = departure_states.transition(
        session,
        departure,
        DepartureStatus.CANCELLED,
        now,
        event="departure.cancelled",
        actor=actor,
        source="admin",
        content={"reason": reason},
    )
    active = list(
        session.scalars(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status.in_(CANCELLABLE_STATUSES))
            .order_by(Booking.id)
        )
    )
    message_ids: list[int] = []
    unreachable: list[dict[str, Any]] = []
    refunded = people = 0
    for booking in active:
        paid = booking.paid_minor
        if refund == "none":
            bookings.cancel_and_free_seats(
                session,
                org,
                booking,
                now,
                reason=f"departure cancelled: {reason}",
                actor=actor,
                source="admin",
            )
            back = 0
        else:
            back = cancel_with_refund(
                session,
                org,
                booking,
                now,
                reason=f"departure cancelled: {reason}",
                stripe=stripe,
                actor=actor,
                source="admin",
                full_refund=refund == "full",
            )
        refunded += back
        people += booking.seats
        customer = booking.customer
        voice = customer_voice(org, customer)
        body = (
            fill_own_message(voice, own_message, departure, booking, back)
            if own_message
            else cancellation_message(
                voice,
                departure,
                reason,
                booking.reference,
                paid_minor=paid,
                currency=booking.currency,
                refunded_minor=back,
            )
        )
        channels = sorted(
            {
                c
                for c in session.scalars(
                    select(Conversation.channel).where(Conversation.customer_id == customer.id)
                )
            }
        ) or ["sms"]
        # Outside WhatsApp's 24-hour window: the approved template (the facts, not staff's
        # own words), else SMS if they wrote to us by SMS and are not texted below anyway.
        _, template = notify.purpose_template(
            session,
            org,
            voice,
            customer,
            "departure_cancelled",
            {
                "tour": departure.tour.name,
                "when": voice.when(departure.starts_at),
                "reason": reason,
                "reference": booking.reference,
                "refund": refund_clause(voice, paid, back, booking.currency),
            },
        )
        sent, waiting = [], []
        for channel in channels:
            rows = outbox.queue(
                session,
                org,
                customer.phone,
                body,
                now,
                channel=channel,
                kind="cancellation",
                template=template if channel == Channel.WHATSAPP else None,
                sms_fallback=Channel.SMS not in channels,
                booking_id=booking.id,
            )
            message_ids += [r.id for r in rows]
            unsent = (MessageStatus.SUPPRESSED, MessageStatus.FAILED, MessageStatus.NEEDS_TEMPLATE)
            sent += [r for r in rows if r.status not in unsent]
            waiting += [r for r in rows if r.status == MessageStatus.NEEDS_TEMPLATE]
        if not sent:
            unreachable.append(
                {
                    "booking": booking.reference,
                    "name": customer.name,
                    "phone": customer.phone,
                    "why": "opted out"
                    if customer.opted_out
                    else "WhatsApp window closed and no approved template"
                    if waiting
                    else "no channel",
                }
            )
    if departure.guide is not None:
        guide_words = guide_voice(org, departure.guide)
        notify.to_staff(
            session,
            org,
            departure.guide.phone,
            guide_words._(
                "{code} ({tour}, {when}) is cancelled: {reason}. You are released from it.",
                code=departure.code,
                tour=departure.tour.name,
                when=guide_words.when(departure.starts_at),
                reason=reason,  # staff's words, as they wrote them
            ),
            now,
        )
    record = DepartureCancellation(
        organization_id=org.id,
        departure_id=departure.id,
        reason=reason,
        cancelled_at=now,
        bookings_cancelled=len(active),
        people=people,
        refunded_minor=refunded,
        message_ids=message_ids,
        unreachable=unreachable,
        batch=batch,
    )
    session.add(record)
    event.content = {
        **event.content,
        "bookings": len(active),
        "people": people,
        "refunded_minor": refunded,
        "unreachable": len(unreachable),
    }
    return record


def cancellation_message(
    voice: Voice,
    departure: Departure,
    reason: str,
    reference: str,
    *,
    paid_minor: int | None,
    currency: str = "",
    refunded_minor: int | None = None,
) -> str:
    """What each customer of a cancelled departure is told, in their words around the
    reason staff gave in theirs. Staff preview it before they cancel, when no amount is
    known yet (paid_minor None)."""
    what = dict(
        tour=departure.tour.name,
        when=voice.when(departure.starts_at),
        reason=reason,
        reference=reference,
    )
    if paid_minor is None:
        return voice._(
            "We're sorry: {tour} on {when} is cancelled ({reason}). Your booking {reference} "
            "is cancelled and what you paid is being refunded in full. "
            "Reply to choose another date.",
            **what,
        )
    refunded = paid_minor if refunded_minor is None else refunded_minor
    if paid_minor and refunded == 0:
        return voice._(
            "We're sorry: {tour} on {when} is cancelled ({reason}). Your booking {reference} "
            "is cancelled. Reply to choose another date; we'll be in touch about the {amount} "
            "you paid.",
            amount=voice.money(paid_minor, currency),
            **what,
        )
    if paid_minor and refunded < paid_minor:
        return voice._(
            "We're sorry: {tour} on {when} is cancelled ({reason}). Your booking {reference} "
            "is cancelled and {amount} is being refunded. Reply to choose another date.",
            amount=voice.money(refunded, currency),
            **what,
        )
    if paid_minor:
        return voice._(
            "We're sorry: {tour} on {when} is cancelled ({reason}). Your booking {reference} "
            "is cancelled and {amount} is being refunded in full. Reply to choose another date.",
            amount=voice.money(paid_minor, currency),
            **what,
        )
    return voice._(
        "We're sorry: {tour} on {when} is cancelled ({reason}). Your booking {reference} "
        "is cancelled. Reply to choose another date.",
        **what,
    )


def refund_clause(voice: Voice, paid_minor: int, refunded_minor: int, currency: str) -> str:
    """What happens to the money, as part of a sentence (the cancellation template's
    variable): "$98 is being refunded in full"."""
    if not paid_minor:
        return voice._("nothing was paid")
    if refunded_minor == 0:
        return voice._(
            "we'll be in touch about the {amount} you paid",
            amount=voice.money(paid_minor, currency),
        )
    if refunded_minor < paid_minor:
        return voice._("{amount} is being refunded", amount=voice.money(refunded_minor, currency))
    return voice._(
        "{amount} is being refunded in full", amount=voice.money(refunded_minor, currency)
    )


def fill_own_message(
    voice: Voice, text: str, departure: Departure, booking: Booking, refunded_minor: int
) -> str:
    """Staff's own words for a cancelled departure, with each booking's details put in (only
    these placeholders; anything else in braces is left as written)."""
    values = {
        "name": booking.customer.name or "",
        "reference": booking.reference,
        "tour": departure.tour.name,
        "when": voice.when(departure.starts_at),
        "refund": voice.money(refunded_minor, booking.currency),
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text).strip()


def cancellation_progress(session: Session, record: DepartureCancellation) -> dict[str, Any]:
    """How the notifications are draining, and whom staff must call (including anyone whose
    message finally failed)."""
    rows = list(session.scalars(select(Message).where(Message.id.in_(record.message_ids or [0]))))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    reached = {r.to_phone for r in rows if r.status in REACHING_MESSAGE_STATUSES}
    failed = [
        {
            "phone": r.to_phone,
            "why": f"delivery failed: {r.error_code or r.error_message or r.status}",
        }
        for r in rows
        if r.status in UNDELIVERED_MESSAGE_STATUSES and r.to_phone not in reached
    ]
    return {"messages": counts, "call_list": list(record.unreachable or []) + failed}
