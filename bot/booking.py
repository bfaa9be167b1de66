"""From a search to seats on hold: the departures with room (a numbered list), the quote
for the party, the hold with its payment link; a full departure's choices (the nearest
date, the waitlist, other dates); a new party, date or tour mid-way quoted again."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot import replies
from bot.enquiries import lead_details
from bot.general import tour_names
from bot.lead_capture import ensure_lead, group_for_sales, note_details, open_lead, wants
from bot.states import State
from bot.turn import ASKED_PARTY, Turn
from bot.waitlist import join_waitlist
from models import Departure, DepartureStatus, LeadSource
from services import approvals, availability, inventory, payments, phrases
from services.errors import ServiceError
from services.inventory import NotEnoughSeats
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
    voice = turn.voice
    tour = turn.tour()
    if tour is None:
        turn.say(voice._("Which tour would you like? We run: {tours}.", tours=tour_names(turn)))
        turn.goto(State.NEED_TOUR)
        return
    if group_for_sales(turn):
        return
    first, last = turn.wanted_dates()
    party = turn.party()
    today = turn.now.astimezone(turn.org.tz).date()
    if first is None or last is None:
        first, last = today, today + timedelta(days=13)
    if last is not None and last < today:
        turn.say(voice._("That date has passed. Which date would you like?"))
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
        turn.say(exc.said_by(voice))
        return
    if found:
        intro = (
            voice._("{tour} for {party}:", tour=tour.name, party=phrases.party(voice, party))
            if party
            else voice._("{tour}:", tour=tour.name)
        )
        if turn.result.intent == "ask_price":  # "how much for kids?": every price, then dates
            intro = f"{replies.prices_line(voice, turn.org.currency, tour)}\n{intro}".lstrip()
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
        _offer_list(
            turn,
            nearest,
            intro=voice._("No {tour} departures on those dates. The nearest:", tour=tour.name),
        )
    else:
        turn.say(
            voice._(
                "Sorry, {tour} has no departures with room in the coming months. "
                "Reply AGENT and a person will help.",
                tour=tour.name,
            )
        )
        turn.goto(State.IDLE)


def _no_room(turn: Turn, dep: Departure, party: dict[str, int] | None) -> str:
    """Full, or too few seats left for this party: "fully booked" would be wrong for the
    group of 12 asking about a departure with 3 seats left."""
    voice = turn.voice
    tour, when = dep.tour.name, voice.when(dep.starts_at)
    left = inventory.occupancy(turn.session, dep, turn.now).spots_left
    if left <= 0 or not party:
        return voice._("{tour} on {when} is fully booked.", tour=tour, when=when)
    return voice.n_(
        "{tour} on {when} has only {n} spot left, not enough for {party}.",
        "{tour} on {when} has only {n} spots left, not enough for {party}.",
        left,
        tour=tour,
        when=when,
        party=phrases.party(voice, party),
    )


def _day_start(turn: Turn, day: date) -> datetime:
    return availability.local_day_bounds(turn.org, day, day)[0]


def _offer_list(turn: Turn, found: list[availability.AvailableDeparture], intro: str) -> None:
    voice = turn.voice
    lines = [intro] + [replies.option_line(voice, i, item) for i, item in enumerate(found, 1)]
    lines.append(voice._("Reply with the number to hold seats."))
    turn.say("\n".join(lines))
    turn.goto(State.CHOOSING, offered=[item.departure.code for item in found])


def _offer_full(turn: Turn, full: Departure, headline: str) -> None:
    voice = turn.voice
    party = turn.party() or {"adult": 1}
    alternatives = availability.alternatives(turn.session, turn.org, full, party, turn.now, limit=1)
    lines = [headline]
    waitlist_line = voice._(
        "{number}) Join the waitlist for {when}", number=2, when=voice.when(full.starts_at)
    )
    if alternatives:
        alt = alternatives[0]
        lines.append(
            voice.n_(
                "{number}) {when} instead – {n} spot left",
                "{number}) {when} instead – {n} spots left",
                alt.spots_left,
                number=1,
                when=voice.when(alt.departure.starts_at),
            )
        )
        lines += [
            waitlist_line,
            voice._("{number}) See other dates", number=3),
            voice._("Reply 1, 2 or 3."),
        ]
    else:  # no nearest date to offer: 1 searches the others (see full_option)
        lines += [
            voice._("{number}) See other dates", number=1),
            waitlist_line,
            voice._("Reply 1 or 2."),
        ]
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
            turn.voice._("Please reply with a number from 1 to {last}.", last=len(offered))
            if offered
            else replies.menu_text(turn.voice)
        )
        return
    _propose(turn, turn.departure(offered[option - 1]))


def _propose(turn: Turn, dep: Departure | None) -> None:
    voice = turn.voice
    if dep is None:
        turn.say(replies.menu_text(voice))
        turn.goto(State.IDLE)
        return
    turn.remember(chosen=dep.code, tour=dep.tour.slug)
    party = turn.party()
    if group_for_sales(turn):
        return
    if not party:
        turn.say(
            voice._("{tour}, {when}.", tour=dep.tour.name, when=voice.when(dep.starts_at))
            + " "
            + how_many(turn)
        )
        turn.goto(State.NEED_PARTY)
        return
    if too_young := _under_min_age(turn, dep):
        turn.say(too_young + " " + how_many(turn))
        turn.goto(State.NEED_PARTY)
        return
    try:
        price = price_party(turn.org, dep, party, turn.now)
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        turn.goto(State.NEED_PARTY)
        return
    turn.say(
        replies.quote_text(
            voice,
            turn.org.settings.deposit_percent,
            dep.tour.name,
            voice.when(dep.starts_at),
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
        return turn.voice.n_("for {n} hour", "for {n} hours", hours)
    return turn.voice._("until {when}", when=turn.voice.when(dep.starts_at))


def how_many(turn: Turn) -> str:
    """The question for the party; a bare number answers it. With the adults known ("just
    the kids and me"), it asks for the children."""
    turn.ask(ASKED_PARTY)
    if turn.slot("party_partial"):
        return turn.voice._("How many children are coming, and how old are they?")
    return turn.voice._('How many people? (e.g. "2 adults 1 child")')


def _under_min_age(turn: Turn, dep: Departure) -> str | None:
    """The tour's minimum age against the children's ages the customer gave."""
    min_age = (dep.tour.details or {}).get("min_age")
    ages = turn.slot("child_ages") or []
    if not isinstance(min_age, int) or not ages or min(ages) >= min_age:
        return None
    return turn.voice._(
        "Sorry, {tour} is for ages {min_age} and up, so a {age}-year-old can't join.",
        tour=dep.tour.name,
        min_age=min_age,
        age=min(ages),
    )


def take_party(turn: Turn) -> None:
    if not turn.party_from_message():
        turn.say(how_many(turn))
        return
    _propose(turn, turn.departure(turn.slot("chosen")))


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
        _propose(turn, dep)  # "yes, but for 4": they have not seen that price yet
        return
    voice = turn.voice
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
        _capture_failed(turn, "booking_error", dep)
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
    turn.say(
        voice.n_(
            "Done! I've held {n} seat on {tour}, {when}.",
            "Done! I've held {n} seats on {tour}, {when}.",
            booking.seats,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
        )
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
            _offer_list(turn, found, intro=turn.voice._("Other dates with room:"))
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
    turn.goto(State.IDLE, chosen=None, offered=None, full=None)
