"""Which of the customer's bookings a message is about: the one its reference names, else
their only one still to come (narrowed to the tour the message names, and to the one this
conversation was about), else a question: which one, or, when the message names a tour
they have no booking on, whether they meant the booking they have or a new one
("can I add 1 more to the city walk" from someone booked on the food tour).

One function for every handler that needs a booking (bot/my_bookings.py,
bot/booking_requests.py); the answer to "did you mean that one?" is read by the state
machine (State.WHICH_BOOKING: meant_booking, meant_new)."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from bot.states import State
from bot.turn import Turn
from models import EXPECTED_STATUSES, Booking, BookingStatus, Departure, Tour
from services import phrases
from services.errors import ServiceError
from services.pricing import price_party


def find_booking(
    turn: Turn,
    statuses: tuple[BookingStatus, ...] = EXPECTED_STATUSES,
    *,
    doubt: Callable[[list[Booking]], dict[str, object]] | None = None,
) -> Booking | None:
    """The booking the message is about; None after saying what is missing. doubt: for a
    request that could be a new booking, when the message names a tour they have no
    booking on, "did you mean that one?" is asked, keeping what doubt(their bookings)
    gives for the answer."""
    voice = turn.voice
    stmt = (
        select(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Booking.organization_id == turn.org.id, Booking.customer_id == turn.customer.id)
        .options(contains_eager(Booking.departure).joinedload(Departure.tour))
    )
    if ref := turn.result.entity("booking_ref"):
        booking = turn.session.scalar(stmt.where(Booking.reference == ref))
        if booking is None:
            turn.say(
                voice._(
                    "I couldn't find booking {reference} for this number. "
                    "Please check the reference.",
                    reference=ref,
                )
            )
        return booking
    coming = list(
        turn.session.scalars(
            stmt.where(Booking.status.in_(statuses), Departure.starts_at > turn.now).order_by(
                Departure.starts_at
            )
        )
    )
    named = turn.result.entity("tour")
    if named and coming:
        on_tour = [b for b in coming if b.departure.tour.slug == named]
        if not on_tour:
            _not_on_that_tour(turn, coming, named, doubt(coming) if doubt else None)
            return None
        coming = on_tour
    if len(coming) > 1 and not named:
        # "where do we meet for the walk?" with a food tour and a walk booked: the one
        # whose tour is called that kind of thing.
        kinds = {w.rstrip("s") for w in re.findall(r"[a-z]+", turn.text.lower())} & _KINDS
        by_name = [b for b in coming if kinds & _kinds_of(b.departure.tour.name)]
        called = by_name or [
            b for b in coming if kinds & _kinds_of(*(b.departure.tour.aliases or []))
        ]
        coming = called if len(called) == 1 else coming
    if len(coming) > 1 and turn.slot("booking"):
        coming = [b for b in coming if b.reference == turn.slot("booking")] or coming
    if len(coming) == 1:
        return coming[0]
    if not coming and (open_price := _open_price(turn)):
        turn.say(open_price)  # "whats my booking" with a price given, nothing held yet
    elif not coming:
        # Bookings are only ever shown to the number that made them: a reference sent from
        # another phone finds nothing, so do not ask for one.
        turn.say(
            voice._(
                "I couldn't find an active booking for this number. If you booked with another "
                "number, please write from that one, or reply AGENT and a person will help."
            )
        )
    else:
        listed = (
            voice._("{reference} ({tour})", reference=b.reference, tour=b.departure.tour.name)
            for b in coming
        )
        turn.say(voice._("Which booking? {bookings}", bookings=voice.join(listed, either=True)))
    return None


def _open_price(turn: Turn) -> str:
    """A price given and not yet taken (CONFIRMING): nothing is held, the price repeated."""
    dep = turn.departure(turn.slot("chosen"))
    party = turn.party()
    if turn.state != State.CONFIRMING or dep is None or not party:
        return ""
    voice = turn.voice
    try:
        price = price_party(turn.org, dep, party, turn.now)
    except ServiceError:
        return ""
    return voice._(
        "Nothing is held yet. The price I gave is still open: {tour}, {when}, {party}, "
        "{total}. Reply YES to hold.",
        tour=dep.tour.name,
        when=voice.when(dep.starts_at),
        party=phrases.party(voice, party),
        total=voice.money(price.total_minor, turn.org.currency),
    )


_KINDS = frozenset({"tour", "trip", "trek", "walk", "hike", "ride", "cruise", "class"})


def _kinds_of(*names: str) -> set[str]:
    words = re.findall(r"[a-z]+", " ".join(names).lower())
    return {w.rstrip("s") for w in words} & _KINDS


def _not_on_that_tour(
    turn: Turn, coming: list[Booking], slug: str, doubt: dict[str, object] | None
) -> None:
    """What they have instead; for a request that could be a new booking, which they
    meant."""
    voice = turn.voice
    tour = turn.session.scalar(
        select(Tour).where(Tour.organization_id == turn.org.id, Tour.slug == slug)
    )
    name = tour.name if tour is not None else slug
    listed = voice.join(
        voice._(
            "{reference} ({tour}, {when})",
            reference=b.reference,
            tour=b.departure.tour.name,
            when=voice.when(b.departure.starts_at),
        )
        for b in coming
    )
    if doubt is None:
        turn.say(
            voice._(
                "I don't see a {tour} booking for this number; you have {bookings}.",
                tour=name,
                bookings=listed,
            )
        )
        return
    if len(coming) == 1:
        question = voice._(
            "I don't see a {tour} booking for this number; you have {bookings}. Did you mean "
            "that one, or a new booking for the {tour}?",
            tour=name,
            bookings=listed,
        )
    else:
        question = voice._(
            "I don't see a {tour} booking for this number; you have {bookings}. Did you mean "
            "one of those (reply with its reference), or a new booking for the {tour}?",
            tour=name,
            bookings=listed,
        )
    turn.say(question)
    turn.goto(
        State.WHICH_BOOKING,
        doubt={
            **doubt,
            "tour": slug,
            "refs": [b.reference for b in coming],
            "tours": sorted({b.departure.tour.slug for b in coming}),
        },
    )


def meant_booking(turn: Turn) -> None:
    """ "That one": the request, about the booking they have."""
    from bot import my_bookings  # it uses find_booking

    doubt = turn.slot("doubt") or {}
    refs = doubt.get("refs") or []
    named = turn.result.entity("booking_ref")
    tour = turn.result.entity("tour")
    chosen = named if named in refs else None
    if chosen is None and tour:
        chosen = next(
            (r for r, t in zip(refs, _tours_of(turn, refs), strict=False) if t == tour), None
        )
    if chosen is None and len(refs) == 1:
        chosen = refs[0]
    parties = doubt.get("parties") or {}
    if chosen is None:  # several, and which one not said
        voice = turn.voice
        turn.say(voice._("Which booking? {bookings}", bookings=voice.join(refs, either=True)))
        return
    turn.goto(State.IDLE, doubt=None, booking=chosen)
    if doubt.get("kind") == "move" or chosen not in parties:
        turn.instead(my_bookings.move_request)
    else:
        my_bookings.change_people(turn, parties[chosen])


def _tours_of(turn: Turn, refs: list[str]) -> list[str]:
    rows: dict[str, str] = {
        ref: slug
        for ref, slug in turn.session.execute(
            select(Booking.reference, Tour.slug)
            .join(Departure, Departure.id == Booking.departure_id)
            .join(Tour, Tour.id == Departure.tour_id)
            .where(Booking.organization_id == turn.org.id, Booking.reference.in_(refs))
        )
    }
    return [rows.get(r, "") for r in refs]


def meant_new(turn: Turn) -> None:
    """ "A new one": seats on the tour the request named."""
    from bot import booking  # the booking journey imports the turn's helpers

    doubt = turn.slot("doubt") or {}
    turn.goto(State.IDLE, doubt=None, tour=doubt.get("tour"), booking=None)
    turn.absorb_entities()  # "a new one, for sunday"
    turn.instead(booking.check_availability)
