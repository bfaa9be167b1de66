"""From a search to a departure chosen: the departures with room (a numbered list), the
day's departures by time of day, a date passed or not run, the list's prices; a new party,
date or tour mid-way searched again (bot/quoting.py quotes the one chosen, bot/holding.py
holds it)."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import get_day_names, get_month_names
from sqlalchemy import select

from bot import interactive, my_bookings, replies
from bot.departure_lists import offer_list, whats_on
from bot.general import tour_names
from bot.lead_capture import group_for_sales, note_details, open_lead
from bot.quoting import (
    a_group,
    capture_failed,
    choose,
    day_start,
    group_line,
    no_room,
    offer_full,
    propose,
)
from bot.states import State
from bot.turn import Turn
from intents.entities.party import bare_count
from models import EXPECTED_STATUSES, Booking, BookingStatus, Departure, DepartureStatus, Tour
from services import availability, booking_changes, inventory, payments, phrases, schedule
from services.errors import ServiceError
from services.i18n import N_, Voice
from services.pricing import price_party

# "No Sunset Tour departure {in the morning} on Saturday."
DAYPART_WORDS = {
    "morning": N_("in the morning"),
    "lunch": N_("at lunchtime"),
    "afternoon": N_("in the afternoon"),
    "evening": N_("in the evening"),
    "night": N_("at night"),
    "early": N_("earlier in the day"),
    "late": N_("later in the day"),
}


def revise(turn: Turn) -> None:
    """A new party, date or tour in the middle of a quote ("make it 3 adults"): the same
    departure priced again when only the party changed, otherwise a new search. The
    customer's words also go on their open lead, which may hold more than we parsed."""
    lead = open_lead(turn)
    if lead is not None:
        note_details(turn, lead)
    if turn.state == State.CONFIRMING and turn.told == {"party"} and turn.slot("chosen"):
        propose(turn, turn.departure(turn.slot("chosen")))
        return
    if turn.state == State.HELD and turn.slot("booking") and turn.told:
        # Just held, then "actually Sunday" / "actually 3 of us": the hold is changed (YES
        # makes it), never a second one left beside it.
        if turn.told <= {"date", "dates", "month", "week", "time", "daypart"}:
            turn.instead(my_bookings.move_request)
            return
        if turn.told <= {"party", "child_ages"} and (party := turn.party()):
            my_bookings.change_people(turn, party)
            return
    told_time_only = bool(turn.told) and turn.told <= {"time", "daypart"}
    if turn.state == State.CHOOSING and told_time_only and _pick_by_time(turn):
        return
    turn.instead(check_availability)


def _pick_by_time(turn: Turn) -> bool:
    """ "the 6pm one", "the late one": the one departure of those just listed at that time
    of day, chosen; False when the words pick none or several."""
    if not ({"time", "daypart"} & turn.told):
        return False
    listed = [d for d in map(turn.departure, turn.slot("offered") or []) if d is not None]
    picked = schedule.at_time_of_day(
        turn.org,
        [schedule.Seats(d, 0) for d in listed],
        clock=turn.slot("time"),
        daypart=turn.slot("daypart"),
    )
    if len(picked) != 1:
        return False
    choose(turn, picked[0].departure)
    return True


def _pick_by_tour(turn: Turn) -> bool:
    """ "the sunset one" of a list of several tours' departures (whats_on): that tour's one
    departure in the list, chosen; False when the words name none of the list's tours or
    it lists that tour more than once."""
    if "tour" not in turn.told:
        return False
    listed = [d for d in map(turn.departure, turn.slot("offered") or []) if d is not None]
    picked = [d for d in listed if d.tour.slug == turn.slot("tour")]
    if len(picked) != 1:
        return False
    choose(turn, picked[0])
    return True


def check_availability(turn: Turn) -> None:
    voice = turn.voice
    if no_such := turn.result.entity("impossible_date"):
        month, day = (int(p) for p in str(no_such).split("-"))
        turn.say(
            voice._(
                "There is no {date}. Which date did you mean?",
                date=voice._("{day} {month}", day=day, month=_month_name(voice, month)),
            )
        )
        return
    tour = turn.tour()
    if tour is None and turn.wanted_dates()[0] is not None:
        turn.instead(whats_on)  # a day and no tour: every tour's departures that day
        return
    if tour is None:
        turn.say(voice._("Which tour would you like? We run: {tours}.", tours=tour_names(turn)))
        turn.goto(State.NEED_TOUR)
        return
    if group_for_sales(turn):
        return
    first, last = turn.wanted_dates()
    party = turn.party()
    today = turn.now.astimezone(turn.org.tz).date()
    asked_days = first is not None
    if first is None or last is None:
        first, last = today, today + timedelta(days=13)
    if last < today:
        _passed(turn, tour, last)
        return
    first = max(first, today)
    if (
        asked_days
        and first == last == today
        and my_bookings.names_todays_weekday(turn.text, today)
        and not _runs_today(turn, tour, today)
    ):
        # "Sunday" said on a Sunday the tour does not run: the Sunday after.
        first = last = today + timedelta(days=7)
    if asked_days and first == last and _holds_that_day(turn, tour, first):
        return
    timed = bool(turn.slot("time") or turn.slot("daypart"))
    if (timed or (asked_days and first == last)) and _by_time_of_day(turn, tour, first, last):
        return
    try:
        found = availability.search(
            turn.session,
            turn.org,
            turn.now,
            tour=tour,
            date_from=first,
            date_to=last,
            party=party,
            limit=3,
        )
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    if found:
        offer_list(turn, found, intro=_intro(turn, tour))
        return
    # Nothing with room: a full departure on those dates, or none at all?
    full = turn.session.scalar(
        select(Departure)
        .where(
            Departure.tour_id == tour.id,
            Departure.status == DepartureStatus.OPEN,
            Departure.starts_at >= max(turn.now, day_start(turn, first)),
            Departure.starts_at < day_start(turn, last + timedelta(days=1)),
        )
        .order_by(Departure.starts_at)
    )
    if full is not None:
        if turn.result.intent in ("book", "hold") or a_group(party):
            capture_failed(turn, "date_unavailable", full)
        offer_full(turn, full, no_room(turn, full, party) + group_line(turn, party))
        return
    if asked_days and first == last == today and _left_today(turn, tour, today):
        return
    _not_running(turn, tour, first, last, asked_days)


def _holds_that_day(turn: Turn, tour: Tour, day: date) -> bool:
    """Asking again for a day they already hold or booked (the same tour): that booking is
    named, never a second one; a different party is offered as a change of it."""
    start, end = availability.local_day_bounds(turn.org, day, day)
    mine = turn.session.scalar(
        select(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.status.in_(EXPECTED_STATUSES),
            Departure.tour_id == tour.id,
            Departure.starts_at >= max(start, turn.now),
            Departure.starts_at < end,
        )
        .order_by(Departure.starts_at)
        .limit(1)
    )
    if mine is None:
        return False
    voice, party = turn.voice, turn.party()
    if party and party != mine.party and mine.status in booking_changes.CHANGEABLE:
        try:
            change = booking_changes.quote(turn.session, turn.org, mine, turn.now, party=party)
        except ServiceError:
            pass
        else:
            turn.say(voice._("You already have {reference} that day.", reference=mine.reference))
            my_bookings.ask_to_confirm(turn, change)
            return True
    lines = [
        voice._("You already have {reference} that day:", reference=mine.reference),
        replies.booking_summary(voice, mine),
    ]
    if mine.status == BookingStatus.HELD:
        lines.append(
            voice._("Pay here: {link}", link=payments.pay_url(mine, turn.config.PUBLIC_BASE_URL))
        )
    lines.append(
        voice._('To change it, just tell me (e.g. "add 1 person" or "move it to Sunday").')
    )
    turn.say("\n".join(lines))
    turn.goto(
        State.HELD if mine.status == BookingStatus.HELD else State.IDLE, booking=mine.reference
    )
    return True


def _intro(turn: Turn, tour: Tour) -> str:
    voice, party = turn.voice, turn.party()
    intro = (
        voice._("{tour} for {party}:", tour=tour.name, party=phrases.party(voice, party))
        if party
        else voice._("{tour}:", tour=tour.name)
    )
    if turn.result.intent == "ask_price":  # "how much for kids?": every price, then dates
        intro = f"{replies.prices_line(voice, turn.org.currency, tour)}\n{intro}".lstrip()
    return intro


def _month_name(voice: Voice, month: int) -> str:
    return str(get_month_names("wide", locale=voice.locale)[month])


def _passed(turn: Turn, tour: Tour, day: date) -> None:
    """A date in the past is said to be past (never quietly moved to next year), and the
    next dates offered instead."""
    voice = turn.voice
    turn.remember(date=None, dates=None, month=None, week=None)
    passed = voice._("{date} has already passed.", date=voice.long_day(day))
    found = availability.search(
        turn.session, turn.org, turn.now, tour=tour, party=turn.party(), limit=3
    )
    if not found:
        turn.say(passed + " " + voice._("Which date would you like?"))
        return
    offer_list(turn, found, intro=passed + "\n" + voice._("The next {tour} dates:", tour=tour.name))


def _by_time_of_day(turn: Turn, tour: Tour, first: date, last: date) -> bool:
    """One day, or a time of day ("Saturday evening", "the 6pm one"): that day's departures
    are all named, the full ones too, so a full 18:00 is never hidden behind an 11:00 with
    room (its waitlist stays reachable). False when nothing runs on those days."""
    voice, party = turn.voice, turn.party()
    day_seats = schedule.departures_between(turn.session, turn.org, tour, first, last, turn.now)
    if not day_seats:
        return False
    clock, daypart = turn.slot("time"), turn.slot("daypart")
    asked = schedule.at_time_of_day(turn.org, day_seats, clock=clock, daypart=daypart)
    if not asked:
        when = (
            voice._("at {time}", time=clock.lstrip("~"))
            if clock
            else voice._(DAYPART_WORDS.get(daypart or "", N_("at that time")))
        )
        intro = (
            voice._(
                "No {tour} departure {when} on {day}. That day:",
                tour=tour.name,
                when=when,
                day=voice.long_day(first),
            )
            if first == last
            else voice._(
                "No {tour} departure {when} on those dates. There is:", tour=tour.name, when=when
            )
        )
        _offer_seats(turn, tour, day_seats, intro)
        return True
    if not any(s.fits(party) for s in asked):
        full = asked[0].departure
        if turn.result.intent in ("book", "hold") or a_group(party):
            capture_failed(turn, "date_unavailable", full)
        offer_full(turn, full, no_room(turn, full, party) + group_line(turn, party))
        return True
    if (clock or daypart) and len(asked) == 1 and party and first == last:
        # "the 11am one on Saturday, 2 of us": the one departure asked for, quoted at once.
        propose(turn, asked[0].departure)
        return True
    _offer_seats(turn, tour, asked, _intro(turn, tour))
    return True


def _offer_seats(turn: Turn, tour: Tour, seats: list[schedule.Seats], intro: str) -> None:
    """A numbered list of departures, full ones included and marked so: choosing one
    offers its waitlist (choose_departure)."""
    voice, party = turn.voice, turn.party()
    lines = [intro]
    listed = seats[: schedule.MAX_DAY_LISTED]
    rows = []  # the same, as WhatsApp list rows
    for number, s in enumerate(listed, 1):
        dep = s.departure
        if s.fits(party):
            price = price_party(turn.org, dep, party, turn.now) if party else None
            item = availability.AvailableDeparture(
                dep, turn.org.local(dep.starts_at), _occupancy_left(s), price
            )
            lines.append(replies.option_line(voice, number, item))
            rows.append((dep, interactive.spots_and_price(voice, s.spots_left, price)))
        else:
            rows.append(
                (
                    dep,
                    voice._("full (waitlist)")
                    if s.spots_left == 0
                    else voice.n_("only {n} spot left", "only {n} spots left", s.spots_left),
                )
            )
            lines.append(
                voice._(
                    "{number}) {tour}, {when} – full (waitlist)",
                    number=number,
                    tour=tour.name,
                    when=voice.when(dep.starts_at),
                )
                if s.spots_left == 0
                else voice.n_(
                    "{number}) {tour}, {when} – only {n} spot left",
                    "{number}) {tour}, {when} – only {n} spots left",
                    s.spots_left,
                    number=number,
                    tour=tour.name,
                    when=voice.when(dep.starts_at),
                )
            )
    lines.append(voice._("Reply with the number to hold seats."))
    turn.say("\n".join(lines))
    turn.offer(interactive.departure_rows(turn, intro, rows))
    turn.goto(State.CHOOSING, offered=[s.departure.code for s in listed], any_tour=None)


def _occupancy_left(s: schedule.Seats) -> inventory.Occupancy:
    # Only spots_left is read from it (replies.option_line).
    return inventory.Occupancy(capacity=s.spots_left, booked=0, held=0, offered=0)


def _runs_today(turn: Turn, tour: Tour, today: date) -> bool:
    """A departure of the tour today, left already or not (cancelled ones aside)."""
    return (
        turn.session.scalar(
            select(Departure.id)
            .where(
                Departure.tour_id == tour.id,
                Departure.status != DepartureStatus.CANCELLED,
                Departure.starts_at >= day_start(turn, today),
                Departure.starts_at < day_start(turn, today + timedelta(days=1)),
            )
            .limit(1)
        )
        is not None
    )


def _left_today(turn: Turn, tour: Tour, today: date) -> bool:
    """ "Sunday" on a Sunday is today: when today's departures have all left, that is said
    and the same day next week offered (else the nearest dates)."""
    gone = turn.session.scalar(
        select(Departure)
        .where(
            Departure.tour_id == tour.id,
            Departure.status != DepartureStatus.CANCELLED,
            Departure.starts_at >= day_start(turn, today),
            Departure.starts_at < turn.now,
        )
        .order_by(Departure.starts_at.desc())
        .limit(1)
    )
    if gone is None:
        return False
    voice = turn.voice
    said = voice._(
        "Today's {tour} departure ({time}) has already left.",
        tour=tour.name,
        time=voice.clock(gone.starts_at),
    )
    week_on = today + timedelta(days=7)
    found = availability.search(
        turn.session,
        turn.org,
        turn.now,
        tour=tour,
        date_from=week_on,
        date_to=week_on,
        party=turn.party(),
        limit=3,
    ) or schedule.nearest(turn.session, turn.org, tour, today, today, turn.now, party=turn.party())
    turn.remember(date=None, dates=None, week=None)
    if not found:
        turn.say(said + " " + voice._("Which date would you like?"))
        return True
    found.sort(key=lambda item: item.departure.starts_at)
    offer_list(turn, found, intro=said + "\n" + voice._("The next {tour} dates:", tour=tour.name))
    return True


def _not_running(turn: Turn, tour: Tour, first: date, last: date, asked_days: bool) -> None:
    """Nothing of the tour on the days asked: when it does run, and the dates nearest to
    the ones asked (not the soonest from today)."""
    voice = turn.voice
    lines = []
    pattern = schedule.runs(turn.session, turn.org, tour, turn.now)
    if asked_days and first == last and first.weekday() not in pattern.weekdays:
        lines.append(
            voice._("{tour} doesn't run on {day}.", tour=tour.name, day=voice.long_day(first))
        )
    elif asked_days and first == last:
        # A weekday it runs on, but not that date (not scheduled yet, or none that day):
        # "doesn't run on Sunday... It runs every day" would contradict itself.
        lines.append(
            voice._("No {tour} departure on {day}.", tour=tour.name, day=voice.long_day(first))
        )
    elif asked_days:
        lines.append(voice._("No {tour} departures on those dates.", tour=tour.name))
    # No day asked: the next two weeks were looked at, and the next dates are offered as
    # such ("the everest trek for 2": not "no departures on those dates").
    if pattern.weekdays:
        days = (
            voice._("every day")
            if pattern.daily
            else voice._(
                "every {days}",
                days=voice.join(
                    str(get_day_names("wide", locale=voice.locale)[d]) for d in pattern.weekdays
                ),
            )
        )
        lines.append(
            voice._(
                "It runs {days}, at {times}.",
                days=days,
                times=voice.join(voice.clock(s) for s in pattern.starts),
            )
        )
    nearest = schedule.nearest(
        turn.session, turn.org, tour, first, last, turn.now, party=turn.party()
    )
    if nearest:
        nearest.sort(key=lambda item: item.departure.starts_at)
        heading = (
            voice._("The nearest dates:")
            if asked_days
            else voice._("The next {tour} dates:", tour=tour.name)
        )
        offer_list(turn, nearest, intro="\n".join([*lines, heading]))
        return
    turn.say(
        "\n".join([*lines, ""])
        + voice._(
            "Sorry, {tour} has no departures with room in the coming months. "
            "Reply AGENT and a person will help.",
            tour=tour.name,
        )
    )
    turn.goto(State.IDLE)


def choose_departure(turn: Turn) -> None:
    offered = turn.slot("offered") or []
    option = turn.result.entity("option")
    if option == -1 and offered:
        option = len(offered)
    if option is None and offered and turn.result.intent in ("affirm", "book", "hold"):
        # One departure offered: "yes" is that one; of several, the one on the day the
        # customer said ("sunday works", then "ok book it").
        option = 1 if len(offered) == 1 else _on_the_day_said(turn)
    if not isinstance(option, int) or not 1 <= option <= len(offered):
        if _pick_by_time(turn) or _pick_by_tour(turn):
            return
        if turn.result.intent in ("affirm", "book", "hold") and offered:
            turn.say(_which_one(turn))  # "ok let's book" to several: which one, by date
            return
        count = bare_count(turn.text)
        if count is not None and not turn.party() and offered:
            # "4" after a list shown without a party: how many people, not an option.
            counted = {"adult": count}
            turn.remember(party=counted)
            if len(offered) == 1:
                choose(turn, turn.departure(offered[0]))
                return
            turn.say(
                turn.voice._(
                    "For {party}: which departure? Reply with a number from 1 to {last}.",
                    party=phrases.party(turn.voice, counted),
                    last=len(offered),
                )
            )
            return
        turn.say(
            turn.voice._("Please reply with a number from 1 to {last}.", last=len(offered))
            if offered
            else replies.menu_text(turn.voice)
        )
        return
    dep = turn.departure(offered[option - 1])
    if dep is not None and turn.result.intent in ("book", "hold") and _holds_as_listed(turn, dep):
        # "ok hold" / "book it": the list showed this party's price; held, not quoted again.
        turn.remember(chosen=dep.code, tour=dep.tour.slug, quoted_party=turn.party())
        from bot.holding import hold_seats  # holding builds on this module

        turn.instead(hold_seats)
        return
    choose(turn, dep)


def _on_the_day_said(turn: Turn) -> int | None:
    """The number of the one departure listed on the day (or days) the customer said, when
    that narrows the list; None when the day picks none or several."""
    first, last = turn.wanted_dates()
    if first is None or last is None:
        return None
    offered = turn.slot("offered") or []
    on_the_day = [
        number
        for number, dep in enumerate(map(turn.departure, offered), 1)
        if dep is not None and first <= dep.starts_at.astimezone(turn.org.tz).date() <= last
    ]
    return on_the_day[0] if len(on_the_day) == 1 and len(offered) > 1 else None


def _holds_as_listed(turn: Turn, dep: Departure | None) -> bool:
    """A departure the list priced for the party, with room, that hold_seats can take as
    it is (no group, no child under the tour's age, no party to ask)."""
    party = turn.party()
    if dep is None or not party or a_group(party):
        return False
    ages = turn.slot("child_ages") or []
    min_age = (dep.tour.details or {}).get("min_age")
    if isinstance(min_age, int) and ages and min(ages) < min_age:
        return False
    left = inventory.occupancy(turn.session, dep, turn.now).spots_left
    return left >= sum(party.values())


def _listed(turn: Turn) -> list[Departure]:
    return [d for d in map(turn.departure, turn.slot("offered") or []) if d is not None]


def _which_one(turn: Turn) -> str:
    """ "Happy to book. Which one: 1) Fri 11 Dec 17:30, 2) ...? Reply with its number." """
    voice = turn.voice
    choices = voice.join(
        voice._("{number}) {when}", number=number, when=voice.when(dep.starts_at))
        for number, dep in enumerate(_listed(turn), 1)
    )
    return voice._(
        "Happy to book. Which departure: {choices}? Reply with its number.", choices=choices
    )


def list_prices(turn: Turn) -> None:
    """ "how much for the kids?" while departures are listed: the price per person of each
    tier on them (the early bird counted, and said), and the list stays open."""
    voice, currency = turn.voice, turn.org.currency
    per_departure = []  # (departure, its prices per person, its early-bird percent)
    for dep in _listed(turn):
        tiers = sorted(dep.tour.price_tiers, key=lambda t: t.position)
        prices = [price_party(turn.org, dep, {t.code: 1}, turn.now) for t in tiers]
        listed = ", ".join(
            voice._(
                "{tier} {price}",
                tier=phrases.tier_label(voice, t.code, t.label),
                price=voice.money(price.total_minor, currency),
            )
            for t, price in zip(tiers, prices, strict=True)
        )
        per_departure.append((dep, listed, prices[0].discount_percent if prices else None))
    if len({(listed, early) for _, listed, early in per_departure}) == 1:
        _, listed, early = per_departure[0]
        lines = [
            voice._(
                "Prices per person, with the early-bird {percent}% off: {prices}.",
                percent=voice.number(early),
                prices=listed,
            )
            if early
            else voice._("Prices per person: {prices}.", prices=listed)
        ]
    else:
        lines = [
            voice._(
                "{number}) {when}: {prices} per person",
                number=number,
                when=voice.when(dep.starts_at),
                prices=listed,
            )
            for number, (dep, listed, _) in enumerate(per_departure, 1)
        ]
    lines.append(voice._("Reply with the number to hold seats."))
    turn.say("\n".join(lines))
