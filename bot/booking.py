"""From a search to seats on hold: the departures with room (a numbered list), the quote
for the party, the hold with its payment link; a full departure's choices (the nearest
date, the waitlist, other dates); a new party, date or tour mid-way quoted again."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot import replies
from bot.general import tour_names
from bot.lead_capture import ensure_lead, group_for_sales, note_details, open_lead, wants
from bot.states import State
from bot.turn import Turn
from bot.waitlist import join_waitlist
from models import Departure, DepartureStatus, LeadSource
from services import approvals, availability, inventory, payments, runtime
from services.errors import ServiceError
from services.inventory import NotEnoughSeats
from services.money import format_money
from services.notify import local_time
from services.pricing import price_party

log = logging.getLogger(__name__)


def revise(turn: Turn) -> None:
    """A new party, date or tour in the middle of a quote ("make it 3 adults"): the same
    departure priced again when only the party changed, otherwise a new search. The
    customer's words also go on their open lead, which may hold more than we parsed."""
    lead = open_lead(turn)
    if lead is not None:
        note_details(turn, lead)
    if turn.state == State.CONFIRMING and turn.told == {"party"} and turn.slot("chosen"):
        _propose(turn, turn.departure(turn.slot("chosen")))
        return
    turn.instead(check_availability)


def check_availability(turn: Turn) -> None:
    tour = turn.tour()
    if tour is None:
        turn.say(f"Which tour would you like? We run: {tour_names(turn)}.")
        turn.goto(State.NEED_TOUR)
        return
    if group_for_sales(turn):
        return
    first, last = turn.wanted_dates()
    party = turn.party()
    today = turn.now.astimezone(turn.org.tz).date()
    if first is None:
        first, last = today, today + timedelta(days=13)
    if last is not None and last < today:
        turn.say("That date has passed. Which date would you like?")
        return
    try:
        found = availability.search(
            turn.session,
            turn.org,
            turn.now,
            tour=tour,
            date_from=max(first, today),
            date_to=last,
            party=party,
            limit=3,
        )
    except ServiceError as exc:
        turn.say(exc.message)
        return
    if found:
        intro = f"{tour.name}" + (f" for {replies.party_text(party)}" if party else "") + ":"
        if turn.result.intent == "ask_price":  # "how much for kids?": every price, then dates
            intro = f"{replies.prices_line(turn.org, tour)}\n{intro}".lstrip()
        _offer_list(turn, found, intro=intro)
        return
    # Nothing with room: a full departure on those dates, or none at all?
    full = turn.session.scalar(
        select(Departure)
        .where(
            Departure.tour_id == tour.id,
            Departure.status == DepartureStatus.OPEN,
            Departure.starts_at >= max(turn.now, _day_start(turn, first)),
            Departure.starts_at < _day_start(turn, last + timedelta(days=1)),
        )
        .order_by(Departure.starts_at)
    )
    if full is not None:
        if turn.result.intent in ("book", "hold"):
            _capture_failed(turn, "date_unavailable", full)
        _offer_full(turn, full, _no_room(turn, full, party))
        return
    nearest = availability.search(turn.session, turn.org, turn.now, tour=tour, party=party, limit=3)
    if nearest:
        _offer_list(turn, nearest, intro=f"No {tour.name} departures on those dates. The nearest:")
    else:
        turn.say(
            f"Sorry, {tour.name} has no departures with room in the coming months. "
            "Reply AGENT and a person will help."
        )
        turn.goto(State.IDLE)


def _no_room(turn: Turn, dep: Departure, party: dict[str, int] | None) -> str:
    """Full, or too few seats left for this party: "fully booked" would be wrong for the
    group of 12 asking about a departure with 3 seats left."""
    when = f"{dep.tour.name} on {local_time(turn.org, dep.starts_at)}"
    left = inventory.occupancy(turn.session, dep, turn.now).spots_left
    if left <= 0 or not party:
        return f"{when} is fully booked."
    return (
        f"{when} has only {left} spot{'s' if left != 1 else ''} left, not enough for "
        f"{replies.party_text(party)}."
    )


def _day_start(turn: Turn, day: date) -> datetime:
    return availability.local_day_bounds(turn.org, day, day)[0]


def _offer_list(turn: Turn, found: list[availability.AvailableDeparture], intro: str) -> None:
    lines = [intro] + [replies.option_line(turn.org, i, item) for i, item in enumerate(found, 1)]
    lines.append("Reply with the number to hold seats.")
    turn.say("\n".join(lines))
    turn.goto(State.CHOOSING, offered=[item.departure.code for item in found])


def _offer_full(turn: Turn, full: Departure, headline: str) -> None:
    party = turn.party() or {"adult": 1}
    alternatives = availability.alternatives(turn.session, turn.org, full, party, turn.now, limit=1)
    lines = [headline]
    waitlist_line = f"2) Join the waitlist for {local_time(turn.org, full.starts_at)}"
    if alternatives:
        alt = alternatives[0]
        lines.append(
            f"1) {local_time(turn.org, alt.departure.starts_at)} instead – "
            f"{alt.spots_left} spots left"
        )
        lines += [waitlist_line, "3) See other dates", "Reply 1, 2 or 3."]
    else:  # no nearest date to offer: 1 searches the others (see full_option)
        lines += ["1) See other dates", waitlist_line, "Reply 1 or 2."]
    turn.say("\n".join(lines))
    turn.goto(
        State.FULL,
        full=full.code,
        alternative=alternatives[0].departure.code if alternatives else None,
    )


def choose_departure(turn: Turn) -> None:
    offered = turn.slot("offered") or []
    option = turn.result.entity("option")
    if option == -1 and offered:
        option = len(offered)
    if not isinstance(option, int) or not 1 <= option <= len(offered):
        turn.say(
            f"Please reply with a number from 1 to {len(offered)}." if offered else replies.MENU
        )
        return
    _propose(turn, turn.departure(offered[option - 1]))


def _propose(turn: Turn, dep: Departure | None) -> None:
    if dep is None:
        turn.say(replies.MENU)
        turn.goto(State.IDLE)
        return
    turn.remember(chosen=dep.code, tour=dep.tour.slug)
    party = turn.party()
    if group_for_sales(turn):
        return
    if not party:
        turn.say(
            f"{dep.tour.name}, {local_time(turn.org, dep.starts_at)}. How many people? "
            '(e.g. "2 adults 1 child")'
        )
        turn.goto(State.NEED_PARTY)
        return
    try:
        price = price_party(turn.org, dep, party, turn.now)
    except ServiceError as exc:
        turn.say(exc.message)
        turn.goto(State.NEED_PARTY)
        return
    turn.say(
        replies.quote_text(
            turn.org,
            dep.tour.name,
            local_time(turn.org, dep.starts_at),
            party,
            price,
            _hold_period(turn, dep),
        )
    )
    turn.goto(State.CONFIRMING, quoted_party=party)


def _hold_period(turn: Turn, dep: Departure) -> str:
    """A hold never outlasts the departure's start (services.inventory): say so."""
    hours = turn.org.settings.hold_hours
    if turn.now + timedelta(hours=hours) < dep.starts_at:
        return f"for {hours} hours"
    return f"until {local_time(turn.org, dep.starts_at)}"


def take_party(turn: Turn) -> None:
    if not turn.party_from_message():
        turn.say('How many people? (e.g. "2 adults 1 child")')
        return
    _propose(turn, turn.departure(turn.slot("chosen")))


def hold_seats(turn: Turn) -> None:
    dep = turn.departure(turn.slot("chosen"))
    party = turn.party()
    if dep is None or not party:
        turn.instead(check_availability)
        return
    if turn.slot("quoted_party") not in (None, party):
        _propose(turn, dep)  # "yes, but for 4": they have not seen that price yet
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
        _capture_failed(turn, "slot_unavailable", dep)
        _offer_full(
            turn,
            dep,
            f"Sorry, those seats on {local_time(turn.org, dep.starts_at)} were just taken.",
        )
        return
    except ServiceError as exc:
        turn.say(f"Sorry, I couldn't hold that: {exc.message}")
        turn.goto(State.IDLE)
        return
    except Exception:  # a system error: the customer still gets an answer, sales a lead
        log.exception("hold failed unexpectedly")
        _capture_failed(turn, "booking_error", dep)
        turn.say(
            "Sorry, something went wrong on our side while holding your seats. Nothing was "
            "charged; our team has your request and will contact you shortly."
        )
        turn.goto(State.IDLE)
        return
    if turn.org.settings.approval_required:
        config = runtime.config()
        approvals.request_approval(
            turn.session,
            turn.org,
            booking,
            turn.now,
            secret=config.SECRET_KEY,
            base_url=config.PUBLIC_BASE_URL or "http://127.0.0.1:5000",
        )
        turn.say(
            f"You're pencilled in: {booking.reference}, {booking.seats} seat(s) "
            f"on {dep.tour.name}, "
            f"{local_time(turn.org, dep.starts_at)}. We'll confirm shortly, by "
            f"{local_time(turn.org, booking.hold_expires_at)}, and then send the payment link."
        )
        turn.goto(State.HELD, booking=booking.reference)
        return
    assert booking.hold_expires_at is not None
    turn.say(
        f"Done! I've held {booking.seats} seat{'s' if booking.seats != 1 else ''} "
        f"on {dep.tour.name}, "
        f"{local_time(turn.org, dep.starts_at)}.\n"
        f"Booking: {booking.reference}\n"
        f"Hold expires: {local_time(turn.org, booking.hold_expires_at)}\n"
        f"Deposit {format_money(booking.deposit_minor, booking.currency)} or pay in full "
        f"{format_money(booking.total_minor, booking.currency)}.\n"
        f"Payment link: {payments.pay_url(booking)}"
    )
    turn.goto(State.HELD, booking=booking.reference)


def _capture_failed(turn: Turn, reason: str, dep: Departure) -> None:
    """A booking attempt that fails becomes a high-priority lead with its full context, for
    sales to win back. A failure here must not hide the answer from the customer."""
    try:
        with turn.session.begin_nested():
            lead, _ = ensure_lead(
                turn,
                source=LeadSource.BOOKING_FAILED,
                reason=reason,
                priority="high",
                summary=wants(turn, f"could not book ({reason})", dep),
            )
            lead.departure_id = dep.id
            lead.context = {**lead.context, "failed_departure": dep.code, "reason": reason}
    except Exception:  # best effort: the customer still gets the alternatives
        log.exception("failed-booking lead capture failed")


def full_option(turn: Turn) -> None:
    option = turn.result.entity("option")
    if option == 1 and turn.slot("alternative"):
        _propose(turn, turn.departure(turn.slot("alternative")))
    elif option == 2:
        turn.instead(join_waitlist)
    elif option == 3 or option == 1:
        tour = turn.tour()
        full = turn.departure(turn.slot("full"))
        found = availability.search(
            turn.session, turn.org, turn.now, tour=tour, party=turn.party(), limit=3
        )
        found = [f for f in found if not full or f.departure.id != full.id]
        if found:
            _offer_list(turn, found, intro="Other dates with room:")
        else:
            turn.say("Sorry, no other dates have room right now. Reply 2 to join the waitlist.")
    else:
        turn.say("Please reply 1, 2 or 3.")


def drop_offer(turn: Turn) -> None:
    turn.say("No problem. Anything else? Reply MENU to see what I can do.")
    turn.goto(State.IDLE, chosen=None, offered=None, full=None)
