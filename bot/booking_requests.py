"""Handlers for a customer's existing bookings: status, cancel (the refund is stated, then
YES cancels), reschedule (a task for staff) and the payment link."""

from __future__ import annotations

from sqlalchemy import select

from bot import interactive, replies
from bot.states import State
from bot.turn import Turn
from bot.which_booking import find_booking
from models import (
    ACTIVE_WAITLIST_STATUSES,
    CANCELLABLE_STATUSES,
    EXPECTED_STATUSES,
    Booking,
    BookingStatus,
    WaitlistEntry,
)
from services import cancellations, notify, payments, phrases, ratelimit, timeline, waitlist
from services.errors import ServiceError


def _customer_booking(turn: Turn) -> Booking | None:
    """The booking named, or their only one still to come (a place in line too); None
    after saying what is missing."""
    return find_booking(turn, CANCELLABLE_STATUSES)


def booking_status(turn: Turn) -> None:
    booking = _customer_booking(turn)
    if booking is None:
        return
    text = replies.booking_summary(turn.voice, booking)
    if booking.status == BookingStatus.WAITLISTED:
        entry = turn.session.scalar(
            select(WaitlistEntry).where(WaitlistEntry.booking_id == booking.id)
        )
        if entry is not None and entry.status in ACTIVE_WAITLIST_STATUSES:
            position = waitlist.position(turn.session, entry)
            text += " " + turn.voice._("Waitlist position: #{position}.", position=position)
    elif booking.status == BookingStatus.HELD:  # not confirmed until paid: the way to pay
        text += "\n" + turn.voice._(
            "Pay here to confirm it: {link}",
            link=payments.pay_url(booking, turn.config.PUBLIC_BASE_URL),
        )
    turn.say(text)


def _booking_request(turn: Turn, what: str, event: str, kind: str) -> Booking | None:
    """The booking a request is about, on its timeline and a task for its rep; None after
    saying what is missing."""
    booking = _customer_booking(turn)
    if booking is None:
        return None
    timeline.record(
        turn.session,
        booking,
        event,
        actor=turn.actor(),
        source=turn.conversation.channel,
        at=turn.now,
        content={"text": turn.text[:500], "task": "open"},
    )
    turn.task_for_staff(kind, f"{what} request for {booking.reference}", booking=booking)
    turn.goto(State.IDLE)
    return booking


def cancel_request(turn: Turn) -> None:
    """The refund is stated first; nothing is cancelled until the customer says yes."""
    booking = _customer_booking(turn)
    if booking is None:
        return
    ask_to_cancel(turn, booking)


def ask_to_cancel(turn: Turn, booking: Booking) -> None:
    """States the refund for cancelling this booking and waits for yes (typed or tapped)."""
    voice = turn.voice
    if booking.status not in CANCELLABLE_STATUSES:
        turn.say(
            voice._(
                "{reference} is {status}; there is nothing to cancel.",
                reference=booking.reference,
                status=phrases.status(booking.status),
            )
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
    refund = cancellations.describe(voice, booking, quote)
    turn.say(
        voice._(
            "Cancel {reference} ({tour}, {when})?\n{refund}\n"
            "Reply YES to cancel, or NO to keep your booking.",
            reference=booking.reference,
            tour=booking.departure.tour.name,
            when=voice.when(booking.departure.starts_at),
            refund=refund,
        )
    )
    turn.offer(interactive.cancel(turn, booking, refund))
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
    voice = turn.voice
    if booking is None:
        turn.say(replies.menu_text(voice))
        return
    try:
        with turn.session.begin_nested():
            refunded = cancellations.cancel_with_refund(
                turn.session,
                turn.org,
                booking,
                turn.now,
                reason="cancelled by the customer",
                stripe=payments.StripeAccount.of(turn.config),
                actor=turn.actor(),
                source=turn.conversation.channel,
            )
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    notify.booking_request(
        turn.session,
        turn.org,
        booking,
        "Cancellation (done)",
        turn.text,
        turn.now,
        ratelimit.counter(turn.config.REDIS_URL),
    )
    if refunded:
        turn.say(
            voice._(
                "{reference} is cancelled. {amount} is on its way back to your card (5 to 10 "
                "days). We hope to see you another time!",
                reference=booking.reference,
                amount=voice.money(refunded, booking.currency),
            )
        )
    else:
        turn.say(
            voice._(
                "{reference} is cancelled. We hope to see you another time!",
                reference=booking.reference,
            )
        )


def keep_booking(turn: Turn) -> None:
    turn.goto(State.IDLE, cancel=None)
    turn.say(turn.voice._("Good, your booking stays as it is."))


def reschedule_request(turn: Turn) -> None:
    booking = _booking_request(turn, "Change of date", "booking.reschedule_requested", "reschedule")
    if booking is not None:
        turn.say(
            turn.voice._(
                "I've passed your change of date request for {reference} to our team. "
                "They'll reply here with the dates available.",
                reference=booking.reference,
            )
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
    voice = turn.voice
    if (
        booking is not None
        and booking.status != BookingStatus.HELD
        and booking.status in EXPECTED_STATUSES
    ):
        # Paid (or waiting for the owner) since it was held: "ok 👍" after the confirmation
        # is not "you have no seats on hold", but where the booking stands.
        from bot.my_bookings import pay_balance  # it imports this module

        turn.instead(pay_balance)
        return
    if booking is None or booking.status != BookingStatus.HELD:
        turn.say(
            voice._(
                "You have no seats on hold right now. "
                "Tell me the tour and date and I'll hold them for you."
            )
        )
        return
    assert booking.hold_expires_at is not None
    turn.say(
        voice._(
            "Pay for {reference} here: {link}\n"
            "Deposit {deposit} or {total} in full, before {expires}.",
            reference=booking.reference,
            link=payments.pay_url(booking, turn.config.PUBLIC_BASE_URL),
            deposit=voice.money(booking.deposit_minor, booking.currency),
            total=voice.money(booking.total_minor, booking.currency),
            expires=voice.when(booking.hold_expires_at),
        )
    )
    turn.offer(
        interactive.pay(
            voice,
            booking,
            voice._(
                "{reference}: held until {expires}.",
                reference=booking.reference,
                expires=voice.when(booking.hold_expires_at),
            ),
            turn.config.PUBLIC_BASE_URL,
        )
    )
