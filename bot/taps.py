"""Taps on WhatsApp buttons and list rows (bot/states.py TAPS): each goes straight to its
transition, with no NLU, after checking that what it is about is still what is open. A tap
on an old message (a quote replaced by another, a departure now full or gone, an offer
expired or answered, a cancellation no longer being asked) gets a clear answer and never
acts on what it showed then."""

from __future__ import annotations

from sqlalchemy import select

from bot import replies
from bot.booking_requests import ask_to_cancel, confirm_cancel, keep_booking
from bot.departure_lists import offer_list
from bot.holding import hold_seats
from bot.interactive import hold_key
from bot.quoting import how_many, no_room, offer_full, propose
from bot.states import State
from bot.turn import Turn
from bot.waitlist import answer_offer, join_waitlist
from models import (
    CANCELLABLE_STATUSES,
    EXPECTED_STATUSES,
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from services import availability, inventory, payments, phrases, timeline


def _bookable(turn: Turn, dep: Departure | None) -> Departure | None:
    """The departure, if it can still be booked; None after saying it cannot."""
    if dep is not None and dep.status == DepartureStatus.OPEN and dep.starts_at > turn.now:
        return dep
    turn.say(
        turn.voice._(
            "Sorry, that departure is no longer available. "
            'Tell me a date and I\'ll find another (e.g. "sunset tour Saturday for 2").'
        )
    )
    return None


def tap_departure(turn: Turn) -> None:
    """A row of a departures list, or the nearest date to a full one: priced afresh now;
    full by now, its choices instead."""
    dep = _bookable(turn, turn.departure(turn.reading.tap_arg))
    if dep is None:
        return
    turn.remember(tour=dep.tour.slug)
    party = turn.party()
    if party and inventory.occupancy(turn.session, dep, turn.now).spots_left < sum(party.values()):
        offer_full(turn, dep, no_room(turn, dep, party))
        return
    propose(turn, dep)


def tap_hold(turn: Turn) -> None:
    """Yes to a price: held only when that price is the one open now (the departure and
    the party quoted); otherwise the departure is priced again and nothing is held."""
    key = turn.reading.tap_arg
    code = key.rpartition("/")[0] or key
    voice = turn.voice
    party = turn.party()
    if (
        turn.state == State.CONFIRMING
        and turn.slot("chosen") == code
        and party is not None
        and turn.slot("quoted_party") == party
        and hold_key(code, party) == key
    ):
        turn.instead(hold_seats)
        return
    held = _booked_on(turn, code)
    if held is not None and held.status == BookingStatus.HELD and held.hold_expires_at:
        # A second tap on the same button: the hold exists, say so rather than hold again.
        turn.say(
            voice._(
                "You already have {reference} on hold until {expires}. Pay here: {link}",
                reference=held.reference,
                expires=voice.when(held.hold_expires_at),
                link=payments.pay_url(held, turn.config.PUBLIC_BASE_URL),
            )
        )
        return
    if held is not None:  # paid since, or waiting for the owner: not a second booking
        turn.say(replies.booking_summary(voice, held))
        return
    dep = _bookable(turn, turn.departure(code))
    if dep is None:
        return
    turn.say(voice._("That price is no longer open; here it is again, as of now:"))
    propose(turn, dep)


def _booked_on(turn: Turn, code: str) -> Booking | None:
    """The customer's booking on that departure that a Hold tap may have made: held,
    waiting for the owner, or paid (not a waitlist place, not cancelled)."""
    return turn.session.scalar(
        select(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.status.in_(EXPECTED_STATUSES),
            Departure.code == code,
        )
        .order_by(Booking.id.desc())
        .limit(1)
    )


def tap_party(turn: Turn) -> None:
    dep = _bookable(turn, turn.departure(turn.reading.tap_arg))
    if dep is None:
        return
    turn.goto(State.NEED_PARTY, chosen=dep.code, tour=dep.tour.slug, quoted_party=None)
    voice = turn.voice
    turn.say(
        voice._("{tour}, {when}.", tour=dep.tour.name, when=voice.when(dep.starts_at))
        + " "
        + how_many(turn)
    )


def tap_other_dates(turn: Turn) -> None:
    """Other departures of the same tour with room for the party, as a list."""
    dep = turn.departure(turn.reading.tap_arg)
    voice = turn.voice
    if dep is None:
        turn.say(replies.menu_text(voice))
        return
    turn.remember(tour=dep.tour.slug)
    found = [
        item
        for item in availability.search(
            turn.session, turn.org, turn.now, tour=dep.tour, party=turn.party(), limit=4
        )
        if item.departure.id != dep.id
    ][:3]
    if found:
        offer_list(turn, found, intro=voice._("Other dates with room:"))
        return
    turn.say(
        voice._(
            "Sorry, no other {tour} dates have room right now. Reply AGENT and a person will help.",
            tour=dep.tour.name,
        )
    )


def tap_waitlist(turn: Turn) -> None:
    dep = _bookable(turn, turn.departure(turn.reading.tap_arg))
    if dep is None:
        return
    turn.remember(full=dep.code, chosen=dep.code, tour=dep.tour.slug)
    turn.instead(join_waitlist)


def tap_offer(turn: Turn) -> None:
    """CONFIRM / DECLINE on a waitlist offer: acted on only while that offer is open."""
    accept = turn.reading.tap == "confirm"
    voice = turn.voice
    try:
        entry_id = int(turn.reading.tap_arg)
    except ValueError:
        entry_id = 0
    entry = turn.session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.id == entry_id,
            WaitlistEntry.organization_id == turn.org.id,
            WaitlistEntry.customer_id == turn.customer.id,
        )
    )
    if entry is None:
        turn.say(voice._("That offer is not open any more."))
        return
    if entry.status == WaitlistStatus.OFFERED and (
        entry.offer_expires_at is None or entry.offer_expires_at > turn.now
    ):
        answer_offer(turn, entry, accept)
        return
    if entry.status == WaitlistStatus.ACCEPTED:
        turn.say(
            voice._("You already took that spot: {reference}.", reference=entry.booking.reference)
        )
    elif entry.status == WaitlistStatus.OFFERED or entry.status == WaitlistStatus.EXPIRED:
        turn.say(
            voice._(
                "Sorry, that offer expired and the spot went to the next person waiting. "
                "Nothing was booked."
            )
        )
    else:
        turn.say(voice._("That offer is not open any more."))


def tap_cancel(turn: Turn) -> None:
    """Yes, cancel / Keep booking: acted on only while that cancellation is being asked."""
    ref = turn.reading.tap_arg
    voice = turn.voice
    asking = turn.state == State.CONFIRM_CANCEL and turn.slot("cancel") == ref
    if asking:
        turn.instead(confirm_cancel if turn.reading.tap == "cancel" else keep_booking)
        return
    booking = turn.session.scalar(
        select(Booking).where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.reference == ref,
        )
    )
    if booking is None:
        turn.say(replies.menu_text(voice))
    elif turn.reading.tap == "keep" or booking.status == BookingStatus.CANCELLED:
        turn.say(
            voice._(
                "{reference} is {status}; nothing was changed.",
                reference=booking.reference,
                status=phrases.status(booking.status),
            )
        )
    else:
        turn.say(
            voice._(
                'Nothing was changed: {reference} is {status}. To cancel it, write "cancel '
                "{reference}\" and I'll tell you the refund first.",
                reference=booking.reference,
                status=phrases.status(booking.status),
            )
        )


def tap_reminder(turn: Turn) -> None:
    """The pre-departure reminder's buttons: I'll be there (on the booking's timeline),
    I need to change (a task for the rep, as a typed request is), Cancel booking (the
    refund stated first, then yes). Only for the customer's own booking, still ahead."""
    voice = turn.voice
    booking = turn.session.scalar(
        select(Booking).where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.reference == turn.reading.tap_arg,
        )
    )
    if booking is None:
        turn.say(replies.menu_text(voice))
        return
    dep = booking.departure
    if booking.status not in CANCELLABLE_STATUSES or dep.starts_at <= turn.now:
        turn.say(
            voice._(
                "{reference} is {status}; nothing was changed.",
                reference=booking.reference,
                status=phrases.status(booking.status),
            )
        )
        return
    action = turn.reading.tap
    if action == "cancelask":
        ask_to_cancel(turn, booking)
        return
    if action == "coming":
        _will_be_there(turn, booking)
        return
    timeline.record(
        turn.session,
        booking,
        "booking.reschedule_requested",
        actor=turn.actor(),
        source=turn.conversation.channel,
        at=turn.now,
        content={"text": turn.text[:500], "task": "open"},
    )
    turn.task_for_staff(
        "reschedule", f"Change of date request for {booking.reference}", booking=booking
    )
    turn.say(
        voice._(
            "I've passed your change of date request for {reference} to our team. "
            "They'll reply here with the dates available.",
            reference=booking.reference,
        )
    )


def _will_be_there(turn: Turn, booking: Booking) -> None:
    timeline.record(
        turn.session,
        booking,
        "booking.attendance_confirmed",
        actor=turn.actor(),
        source=turn.conversation.channel,
        at=turn.now,
        content={"text": turn.text[:500]},
    )
    turn.say(
        turn.voice._(
            "Great, see you on {when}! Reply here if anything changes.",
            when=turn.voice.when(booking.departure.starts_at),
        )
    )


def attending(turn: Turn) -> None:
    """A typed yes to the pre-departure reminder just sent ("yes we'll be there", "ja wir
    kommen!"): as its "I'll be there" button. Whatever was open before the reminder (a hold
    paid since, an old cancellation question) is over."""
    booking = turn.reading.reminded_booking
    assert booking is not None  # the rule's guard
    turn.goto(State.IDLE, booking=booking.reference, cancel=None)
    _will_be_there(turn, booking)
