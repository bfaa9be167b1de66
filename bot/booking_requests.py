"""Handlers for a customer's existing bookings: status, cancel (the refund is stated, then
YES cancels), reschedule (a task for staff) and the payment link."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from bot import replies
from bot.states import State
from bot.turn import Turn
from models import (
    ACTIVE_WAITLIST_STATUSES,
    CANCELLABLE_STATUSES,
    Booking,
    BookingStatus,
    Departure,
    WaitlistEntry,
)
from models.enums import status_label
from services import cancellations, notify, payments, timeline, waitlist
from services.errors import ServiceError
from services.money import format_money
from services.notify import local_time


def _customer_booking(turn: Turn) -> Booking | None:
    """The booking named by reference, or the customer's only active one; None after
    saying what is missing."""
    ref = turn.result.entity("booking_ref")
    stmt = select(Booking).where(
        Booking.organization_id == turn.org.id, Booking.customer_id == turn.customer.id
    )
    if ref:
        # Every answer names the departure and its tour: loaded with the booking.
        booking = turn.session.scalar(
            stmt.where(Booking.reference == ref).options(
                joinedload(Booking.departure).joinedload(Departure.tour)
            )
        )
        if booking is None:
            turn.say(f"I couldn't find booking {ref} for this number. Please check the reference.")
        return booking
    active = list(
        turn.session.scalars(
            stmt.join(Departure, Departure.id == Booking.departure_id)
            .where(Booking.status.in_(CANCELLABLE_STATUSES), Departure.starts_at > turn.now)
            .order_by(Departure.starts_at)
            .options(contains_eager(Booking.departure).joinedload(Departure.tour))
        )
    )
    if len(active) == 1:
        return active[0]
    if not active:
        # Bookings are only ever shown to the number that made them: a reference sent from
        # another phone finds nothing, so do not ask for one.
        turn.say(
            "I couldn't find an active booking for this number. If you booked with another "
            "number, please write from that one, or reply AGENT and a person will help."
        )
    else:
        turn.say(
            "Which booking? "
            + ", ".join(f"{b.reference} ({b.departure.tour.name})" for b in active)
        )
    return None


def booking_status(turn: Turn) -> None:
    booking = _customer_booking(turn)
    if booking is None:
        return
    text = replies.booking_summary(turn.org, booking)
    if booking.status == BookingStatus.WAITLISTED:
        entry = turn.session.scalar(
            select(WaitlistEntry).where(WaitlistEntry.booking_id == booking.id)
        )
        if entry is not None and entry.status in ACTIVE_WAITLIST_STATUSES:
            text += f" Waitlist position: #{waitlist.position(turn.session, entry)}."
    turn.say(text)


def _booking_request(turn: Turn, what: str, event: str, next_step: str) -> None:
    booking = _customer_booking(turn)
    if booking is None:
        return
    timeline.record(
        turn.session,
        booking,
        event,
        actor=turn.actor(),
        source=turn.conversation.channel,
        at=turn.now,
        content={"text": turn.text[:500], "task": "open"},
    )
    notify.booking_request(turn.session, turn.org, booking, what, turn.text, turn.now)
    turn.say(
        f"I've passed your {what.lower()} request for {booking.reference} to our team. {next_step}"
    )
    turn.goto(State.IDLE)


def cancel_request(turn: Turn) -> None:
    """The refund is stated first; nothing is cancelled until the customer says yes."""
    booking = _customer_booking(turn)
    if booking is None:
        return
    if booking.status not in CANCELLABLE_STATUSES:
        turn.say(
            f"{booking.reference} is {status_label(booking.status)}; there is nothing to cancel."
        )
        return
    quote = cancellations.refund_quote(turn.org, booking, turn.now)
    timeline.record(
        turn.session,
        booking,
        "booking.cancel_requested",
        actor=turn.actor(),
        source=turn.conversation.channel,
        at=turn.now,
        content={"refund_minor": quote.amount_minor},
    )
    turn.say(
        f"Cancel {booking.reference} ({booking.departure.tour.name}, "
        f"{local_time(turn.org, booking.departure.starts_at)})?\n"
        f"{cancellations.describe(turn.org, booking, quote)}\n"
        "Reply YES to cancel, or NO to keep your booking."
    )
    turn.goto(State.CONFIRM_CANCEL, cancel=booking.reference)


def confirm_cancel(turn: Turn) -> None:
    booking = turn.session.scalar(
        select(Booking).where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.reference == turn.slot("cancel"),
        )
    )
    turn.goto(State.IDLE, cancel=None)
    if booking is None:
        turn.say(replies.MENU)
        return
    try:
        with turn.session.begin_nested():
            refunded = cancellations.cancel_with_refund(
                turn.session,
                turn.org,
                booking,
                turn.now,
                reason="cancelled by the customer",
                actor=turn.actor(),
                source=turn.conversation.channel,
            )
    except ServiceError as exc:
        turn.say(exc.message)
        return
    notify.booking_request(
        turn.session, turn.org, booking, "Cancellation (done)", turn.text, turn.now
    )
    money = format_money(refunded, booking.currency)
    turn.say(
        f"{booking.reference} is cancelled."
        + (f" {money} is on its way back to your card (5 to 10 days)." if refunded else "")
        + " We hope to see you another time!"
    )


def keep_booking(turn: Turn) -> None:
    turn.goto(State.IDLE, cancel=None)
    turn.say("Good, your booking stays as it is.")


def reschedule_request(turn: Turn) -> None:
    _booking_request(
        turn,
        "Change of date",
        "booking.reschedule_requested",
        "They'll reply here with the dates available.",
    )


def payment_link(turn: Turn) -> None:
    ref = turn.slot("booking")
    booking = (
        turn.session.scalar(
            select(Booking).where(Booking.organization_id == turn.org.id, Booking.reference == ref)
        )
        if ref
        else None
    )
    if booking is None or booking.status != BookingStatus.HELD:
        turn.say(
            "You have no seats on hold right now. "
            "Tell me the tour and date and I'll hold them for you."
        )
        return
    assert booking.hold_expires_at is not None
    turn.say(
        f"Pay for {booking.reference} here: {payments.pay_url(booking)}\n"
        f"Deposit {format_money(booking.deposit_minor, booking.currency)} or "
        f"{format_money(booking.total_minor, booking.currency)} in full, before "
        f"{local_time(turn.org, booking.hold_expires_at)}."
    )
