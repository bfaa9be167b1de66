"""From a quote to seats on hold: the party taken, the hold with its payment link (never a
second hold of the same departure), a full departure's choices answered, a quote dropped."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot import interactive, replies
from bot.booking import check_availability, revise
from bot.departure_lists import offer_list
from bot.enquiries import lead_details
from bot.lead_capture import ensure_lead, wants
from bot.quoting import capture_failed, how_many, offer_full, propose
from bot.states import State
from bot.turn import Turn
from bot.waitlist import join_waitlist
from models import EXPECTED_STATUSES, Booking, BookingStatus, Departure
from services import approvals, availability, booking_changes, inventory, payments, schedule
from services.errors import ServiceError
from services.inventory import NotEnoughSeats

log = logging.getLogger(__name__)


def take_party(turn: Turn) -> None:
    if not turn.party_from_message():
        turn.say(how_many(turn))
        return
    propose(turn, turn.departure(turn.slot("chosen")))


def party_answer(turn: Turn) -> None:
    """A bare number answering "how many?" (the party is already kept): it goes on with
    whatever asked."""
    if turn.state == State.NEED_PARTY:
        turn.instead(take_party)
    elif turn.state == State.FULL:
        turn.instead(join_waitlist)
    elif turn.state == State.QUESTIONS:
        turn.instead(lead_details)
    else:
        turn.instead(revise)


def hold_seats(turn: Turn) -> None:
    dep = turn.departure(turn.slot("chosen"))
    party = turn.party()
    if dep is None or not party:
        turn.instead(check_availability)
        return
    if turn.slot("quoted_party") not in (None, party):
        propose(turn, dep)  # "yes, but for 4": they have not seen that price yet
        return
    voice = turn.voice
    if _already_booked(turn, dep, party):
        return
    lead, _ = ensure_lead(turn, summary=wants(turn, "holding seats", dep))
    try:
        with turn.session.begin_nested():
            booking = inventory.hold_seats(
                turn.session,
                turn.org,
                dep,
                turn.customer,
                party,
                turn.now,
                source=turn.conversation.channel,
                actor=turn.actor(),
                lead=lead,
            )
    except NotEnoughSeats:
        capture_failed(turn, "slot_unavailable", dep)
        offer_full(
            turn,
            dep,
            voice._(
                "Sorry, those seats on {when} were just taken.", when=voice.when(dep.starts_at)
            ),
        )
        return
    except ServiceError as exc:
        turn.say(voice._("Sorry, I couldn't hold that: {reason}", reason=exc.said_by(voice)))
        turn.goto(State.IDLE)
        return
    except Exception:  # a system error: the customer still gets an answer, sales a lead
        log.exception("hold failed unexpectedly")
        capture_failed(turn, "booking_error", dep)
        turn.say(
            voice._(
                "Sorry, something went wrong on our side while holding your seats. Nothing was "
                "charged; our team has your request and will contact you shortly."
            )
        )
        turn.goto(State.IDLE)
        return
    if turn.org.settings.approval_required:
        approvals.request_approval(
            turn.session,
            turn.org,
            booking,
            turn.now,
            secret=turn.config.signing_key,
            base_url=turn.config.PUBLIC_BASE_URL or payments.LOCAL_BASE_URL,
        )
        assert booking.hold_expires_at is not None
        turn.say(
            voice.n_(
                "You're pencilled in: {reference}, {n} seat on {tour}, {when}. We'll confirm "
                "shortly, by {deadline}, and then send the payment link.",
                "You're pencilled in: {reference}, {n} seats on {tour}, {when}. We'll confirm "
                "shortly, by {deadline}, and then send the payment link.",
                booking.seats,
                reference=booking.reference,
                tour=dep.tour.name,
                when=voice.when(dep.starts_at),
                deadline=voice.when(booking.hold_expires_at),
            )
        )
        turn.goto(State.HELD, booking=booking.reference)
        return
    assert booking.hold_expires_at is not None
    held = voice.n_(
        "Done! I've held {n} seat on {tour}, {when}.",
        "Done! I've held {n} seats on {tour}, {when}.",
        booking.seats,
        tour=dep.tour.name,
        when=voice.when(dep.starts_at),
    )
    turn.say(
        held
        + "\n"
        + voice._(
            "Booking: {reference}\n"
            "Hold expires: {expires}\n"
            "Deposit {deposit} or pay in full {total}.\n"
            "Payment link: {link}",
            reference=booking.reference,
            expires=voice.when(booking.hold_expires_at),
            deposit=voice.money(booking.deposit_minor, booking.currency),
            total=voice.money(booking.total_minor, booking.currency),
            link=payments.pay_url(booking, turn.config.PUBLIC_BASE_URL),
        )
    )
    turn.offer(interactive.hold_pay(turn, booking, held))
    turn.goto(State.HELD, booking=booking.reference)


def _already_booked(turn: Turn, dep: Departure, party: dict[str, int]) -> bool:
    """Never a second hold for the same customer and departure: a hold of theirs there is
    changed to the party just quoted (they said yes to its price); a confirmed booking is
    named, and changing it is a request of its own ("add 2 people")."""
    voice = turn.voice
    mine = turn.session.scalar(
        select(Booking)
        .where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.departure_id == dep.id,
            Booking.status.in_(EXPECTED_STATUSES),
        )
        .order_by(Booking.id)
        .limit(1)
    )
    if mine is None:
        return False
    link = payments.pay_url(mine, turn.config.PUBLIC_BASE_URL)
    if mine.status == BookingStatus.HELD and mine.party != party:
        try:
            with turn.session.begin_nested():
                booking_changes.apply(
                    turn.session,
                    turn.org,
                    mine,
                    turn.now,
                    party=party,
                    actor=turn.actor(),
                    source=turn.conversation.channel,
                )
        except NotEnoughSeats:
            offer_full(
                turn,
                dep,
                voice._(
                    "Sorry, there isn't room to make {reference} bigger.",
                    reference=mine.reference,
                ),
            )
            return True
        except ServiceError as exc:
            turn.say(exc.said_by(voice))
            turn.goto(State.IDLE)
            return True
        turn.say(
            voice._(
                "You already had {reference} on hold there: I've changed it rather than "
                "holding more seats.",
                reference=mine.reference,
            )
            + "\n"
            + replies.booking_summary(voice, mine)
            + "\n"
            + voice._("Payment link: {link}", link=link)
        )
    elif mine.status == BookingStatus.HELD:
        turn.say(
            voice._("You already have these seats on hold.")
            + "\n"
            + replies.booking_summary(voice, mine)
            + "\n"
            + voice._("Payment link: {link}", link=link)
        )
    else:
        turn.say(
            voice._(
                "You already have {reference} on this departure:",
                reference=mine.reference,
            )
            + "\n"
            + replies.booking_summary(voice, mine)
            + "\n"
            + voice._(
                'To add people to it, tell me how many (e.g. "add 2 people to {reference}").',
                reference=mine.reference,
            )
        )
        turn.goto(State.IDLE, booking=mine.reference)
        return True
    turn.goto(State.HELD, booking=mine.reference)
    return True


def full_option(turn: Turn) -> None:
    option = turn.result.entity("option")
    if option == 1 and turn.slot("alternative"):
        propose(turn, turn.departure(turn.slot("alternative")))
    elif option == 2:
        turn.instead(join_waitlist)
    elif option == 3 or option == 1:
        tour = turn.tour()
        full = turn.departure(turn.slot("full"))
        if full is not None:  # nearest to the full date asked, not the soonest from today
            around = turn.org.local(full.starts_at).date()
            found = schedule.nearest(
                turn.session, turn.org, full.tour, around, around, turn.now, party=turn.party()
            )
            found.sort(key=lambda item: item.departure.starts_at)
        else:
            found = availability.search(
                turn.session, turn.org, turn.now, tour=tour, party=turn.party(), limit=3
            )
        found = [f for f in found if not full or f.departure.id != full.id]
        if found:
            offer_list(turn, found, intro=turn.voice._("Other dates with room:"))
        else:
            turn.say(
                turn.voice._(
                    "Sorry, no other dates have room right now. Reply 2 to join the waitlist."
                )
            )
    else:
        turn.say(turn.voice._("Please reply 1, 2 or 3."))


def drop_offer(turn: Turn) -> None:
    turn.say(turn.voice._("No problem. Anything else? Reply MENU to see what I can do."))
    turn.goto(State.IDLE, chosen=None, offered=None, full=None, any_tour=None)
