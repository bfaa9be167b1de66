"""A departure put to the customer, shared by the search (bot/booking.py) and the hold
(bot/holding.py): quoted for the party, or asked how many; a full one's choices (the
nearest date, the waitlist, other dates); a group passed to sales; a booking that could
not be made noted on the lead."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot import interactive, replies
from bot.lead_capture import ensure_lead, group_for_sales, open_lead, wants
from bot.states import State
from bot.turn import ASKED_PARTY, Turn
from models import Departure, LeadSource
from services import availability, inventory, phrases, schedule
from services.errors import ServiceError
from services.pricing import party_size, price_party

log = logging.getLogger(__name__)


# A party this size that finds no room is a group for a rep to arrange (a lead), besides
# the choices offered.
GROUP_SIZE = 10


def a_group(party: dict[str, int] | None) -> bool:
    return bool(party) and party_size(party or {}) >= GROUP_SIZE


def group_line(turn: Turn, party: dict[str, int] | None) -> str:
    """For a group without room: who will help arrange it (the lead just made)."""
    if not a_group(party):
        return ""
    lead = open_lead(turn)
    if lead is not None and lead.assigned_to is not None:
        return "\n" + turn.voice._(
            "{rep} arranges groups and has your request; they'll be in touch.",
            rep=lead.assigned_to.name,
        )
    return "\n" + turn.voice._(
        "Our team arranges groups and has your request; they'll be in touch."
    )


def no_room(turn: Turn, dep: Departure, party: dict[str, int] | None) -> str:
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


def day_start(turn: Turn, day: date) -> datetime:
    return availability.local_day_bounds(turn.org, day, day)[0]


def offer_full(turn: Turn, full: Departure, headline: str) -> None:
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
        lines += [waitlist_line, _other_dates_line(turn, full, alt.departure, party)]
        lines.append(voice._("Reply 1, 2 or 3."))
    else:  # no nearest date to offer: 1 searches the others (see full_option)
        lines += [
            voice._("{number}) See other dates", number=1),
            waitlist_line,
            voice._("Reply 1 or 2."),
        ]
    turn.say("\n".join(lines))
    turn.offer(interactive.full(turn, full, headline, alternatives[0] if alternatives else None))
    turn.goto(
        State.FULL,
        full=full.code,
        alternative=alternatives[0].departure.code if alternatives else None,
    )


def _other_dates_line(
    turn: Turn, full: Departure, alternative: Departure, party: dict[str, int]
) -> str:
    """ "3) See other dates (nearest: Fri 11 Dec 18:00, Sun 13 Dec 18:00)": the nearest
    other days with room, at the time of day of the full one."""
    voice = turn.voice
    day = turn.org.local(full.starts_at).date()
    nearby = [
        item.departure
        for item in schedule.nearest(
            turn.session, turn.org, full.tour, day, day, turn.now, party=party, limit=6
        )
        if turn.org.local(item.departure.starts_at).date() != day
        and item.departure.id != alternative.id
    ]
    same_time = [
        d
        for d in nearby
        if turn.org.local(d.starts_at).time() == turn.org.local(full.starts_at).time()
    ]
    shown = sorted((same_time or nearby)[:2], key=lambda d: d.starts_at)
    if not shown:
        return voice._("{number}) See other dates", number=3)
    return voice._(
        "{number}) See other dates (nearest: {dates})",
        number=3,
        dates=voice.join(voice.when(d.starts_at) for d in shown),
    )


def choose(turn: Turn, dep: Departure | None) -> None:
    """A departure picked from a list: quoted, or, when it has no room for the party (a
    full one is listed too), its waitlist and the nearest departure offered."""
    party = turn.party()
    if dep is not None:
        left = inventory.occupancy(turn.session, dep, turn.now).spots_left
        if left < (party_size(party) if party else 1):
            offer_full(turn, dep, no_room(turn, dep, party))
            return
    propose(turn, dep)


def propose(turn: Turn, dep: Departure | None) -> None:
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
    period = _hold_period(turn, dep)
    text = replies.quote_text(
        voice,
        turn.org.settings.deposit_percent,
        dep.tour.name,
        voice.when(dep.starts_at),
        party,
        price,
        period,
    )
    turn.say(text)
    turn.offer(interactive.quote(turn, dep, text, price, period))
    turn.goto(State.CONFIRMING, quoted_party=party)


def _hold_period(turn: Turn, dep: Departure) -> str:
    """A hold never outlasts the departure's start, and is shorter close to it
    (services.inventory.hold_length): say which."""
    hours = int(inventory.hold_length(turn.org, dep, turn.now) / timedelta(hours=1))
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


def capture_failed(turn: Turn, reason: str, dep: Departure) -> None:
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
