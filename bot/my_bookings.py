"""A customer's own bookings come first: with a booking or hold, "add one more person",
"my sister can't come", "make it 4", "can we move to Sunday?", "how do I pay the rest?",
"receipt please" and "I need an invoice" are read against it (bot/booking_words.py).

A change (people, or another date) is stated with what it costs and made only on a clear
yes (services/booking_changes.py, under the departure locks); anything else lets it lapse.
A move offers real departures with room for the same party, with the price difference.
The balance comes with its amount, due date and link; a receipt with the booking's page;
an invoice goes to staff as a task with the customer's words."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot import booking_phrasings, booking_words, replies
from bot.booking_requests import reschedule_request
from bot.booking_words import ADD, BALANCE, INVOICE, MOVE, PARTY, RECEIPT, REMOVE, WHEN_WHERE
from bot.lead_capture import STAFF
from bot.states import State
from bot.turn import Turn, details_in, party_in
from bot.which_booking import find_booking
from intents.entities.dates import WEEKDAYS
from intents.entities.foreign import WORDS
from models import (
    BOOKED_STATUSES,
    EXPECTED_STATUSES,
    Booking,
    BookingStatus,
    Departure,
    Tour,
)
from services import (
    availability,
    booking_changes,
    notify,
    payments,
    phrases,
    ratelimit,
    schedule,
)
from services.errors import ServiceError
from services.inventory import NotEnoughSeats

# Bookings a request can be about: coming up, not cancelled (a receipt also for one done).
_ACTIVE = EXPECTED_STATUSES
_RECEIPTABLE = (*EXPECTED_STATUSES, *BOOKED_STATUSES)
MOVE_OPTIONS = 3


def about_booking(turn: Turn) -> None:
    """The rule "about their booking" (bot/states.py): the request its words make."""
    kind = turn.reading.booking_request
    if kind in (ADD, REMOVE, PARTY):
        change_people(turn)
    elif kind == MOVE:
        turn.instead(move_request)
    elif kind == BALANCE:
        turn.instead(pay_balance)
    elif kind == RECEIPT:
        receipt(turn)
    elif kind == INVOICE:
        invoice(turn)
    elif kind == WHEN_WHERE:
        answered = when_and_where(turn)
        if answered and booking_words.asks_balance(turn.text):
            # "where do we meet and how do I pay the rest?": both, in one reply.
            turn.instead(pay_balance)


def when_and_where(turn: Turn) -> bool:
    """ "What time does it start?" with a booking: its departure's day, time and meeting
    point."""
    voice = turn.voice
    booking = find_booking(turn)
    if booking is None:
        return False
    dep = booking.departure
    lines = [
        voice._(
            "{reference}: {tour} starts {when}.",
            reference=booking.reference,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
        )
    ]
    if dep.tour.meeting_point:
        lines.append(voice._("Meeting point: {place}.", place=dep.tour.meeting_point))
    turn.say(" ".join(lines))
    return True


# --- more or fewer people ---------------------------------------------------------------


def _new_party(turn: Turn, booking: Booking, kind: str) -> dict[str, int] | None:
    party = dict(booking.party)
    if kind == PARTY:
        told = party_in(turn.result)
        n = booking_phrasings.new_count(turn.text, turn.reading.language)
        tiers = turn.result.entity("adults") or turn.result.entity("children")
        if n is None or (told and tiers):
            # "make it 2 adults and a child", "somos 2 adultos e 1 criança": the party said
            return told
        # "one of us is sick, can we go with 2": the number asked for, not "one of us".
        # "make it 4": the children stay, the adults make up the rest.
        children = {t: c for t, c in party.items() if t != "adult"}
        adults = n - sum(children.values())
        return {"adult": adults, **children} if adults > 0 else {"adult": n}
    tier, n = booking_phrasings.how_many(turn.text, kind, turn.reading.language)
    if kind == ADD:
        if told := party_in(turn.result):
            # "add 2 adults and a child": the party the message gives is what to add.
            for t, count in told.items():
                party[t] = party.get(t, 0) + count
            return party
        party[tier] = party.get(tier, 0) + n
        return party
    if party.get(tier, 0) < n:  # "remove one" from a booking of adults and a child
        tier = max(party, key=lambda t: party[t])
    party[tier] = party.get(tier, 0) - n
    return {t: c for t, c in party.items() if c > 0}


def change_people(turn: Turn, party: dict[str, int] | None = None) -> None:
    """The booking for more or fewer people (or the party given), stated with its price."""
    voice = turn.voice
    kind = turn.reading.booking_request or (PARTY if party else ADD)

    def doubt(theirs: list[Booking]) -> dict[str, object]:
        # "Add 1 more to the city walk", booked on another tour: if they meant theirs,
        # the change is this one (which_booking.meant_booking).
        parties = {b.reference: _new_party(turn, b, kind) for b in theirs}
        return {"kind": kind, "parties": {r: p for r, p in parties.items() if p}}

    booking = find_booking(turn, doubt=None if party else doubt)
    if booking is None:
        return
    party = party or _new_party(turn, booking, kind)
    if not party:
        if kind == REMOVE:
            turn.say(
                voice._(
                    "That would leave nobody on {reference}. To cancel it, reply CANCEL "
                    "{reference}.",
                    reference=booking.reference,
                )
            )
        else:
            turn.say(
                voice._("How many people should {reference} be for?", reference=booking.reference)
            )
        return
    try:
        change = booking_changes.quote(turn.session, turn.org, booking, turn.now, party=party)
    except NotEnoughSeats as exc:
        turn.say(
            voice.n_(
                "Sorry, {tour} on {when} has only {n} more seat, not enough for that.",
                "Sorry, {tour} on {when} has only {n} more seats, not enough for that.",
                exc.spots_left,
                tour=booking.departure.tour.name,
                when=voice.when(booking.departure.starts_at),
            )
            + " "
            + voice._("Reply CHANGE DATE to see other dates with room.")
        )
        return
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    ask_to_confirm(turn, change)


def ask_to_confirm(turn: Turn, change: booking_changes.Change) -> None:
    """The change in words, with its price; YES makes it (apply_change)."""
    voice, booking = turn.voice, change.booking
    currency = booking.currency
    lines = [
        voice._(
            "{reference}: {party} on {tour}, {when}.",
            reference=booking.reference,
            party=phrases.party(voice, change.party),
            tour=change.departure.tour.name,
            when=voice.when(change.departure.starts_at),
        )
        if change.moves
        else voice._(
            "{reference} for {party} instead of {before}.",
            reference=booking.reference,
            party=phrases.party(voice, change.party),
            before=phrases.party(voice, booking.party),
        ),
        voice._(
            "New total {total} (was {before}: {difference}).",
            total=voice.money(change.price.total_minor, currency),
            before=voice.money(change.was_total_minor, currency),
            difference=_difference(turn, change),
        )
        if change.difference_minor
        else voice._("Same price: {total}.", total=voice.money(change.price.total_minor, currency)),
    ]
    if change.paid_minor and change.owed_minor:
        lines.append(
            voice._(
                "You've paid {paid}; {owed} would be left to pay.",
                paid=voice.money(booking.paid_minor, currency),
                owed=voice.money(change.owed_minor, currency),
            )
        )
    elif change.over_paid_minor:
        lines.append(
            voice._(
                "You've paid {paid}, {over} more than the new total: our team will be in "
                "touch about it, under the cancellation policy.",
                paid=voice.money(booking.paid_minor, currency),
                over=voice.money(change.over_paid_minor, currency),
            )
        )
    lines.append(voice._("Reply YES to make this change, or NO to keep it as it is."))
    turn.say("\n".join(lines))
    turn.goto(State.CONFIRM_CHANGE, change=change.as_slot(), booking=booking.reference)


def apply_change(turn: Turn) -> None:
    """A clear yes to the change just stated: made, under the locks, as quoted."""
    voice = turn.voice
    pending = turn.slot("change") or {}
    turn.goto(State.IDLE, change=None, moving=None, offered_moves=None)
    booking = turn.session.scalar(
        select(Booking)
        .where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.reference == pending.get("booking"),
        )
        .options(joinedload(Booking.departure).joinedload(Departure.tour))
    )
    target = turn.departure(pending.get("departure"))
    if booking is None or target is None:
        turn.say(replies.menu_text(voice))
        return
    try:
        with turn.session.begin_nested():
            change = booking_changes.apply(
                turn.session,
                turn.org,
                booking,
                turn.now,
                party=pending.get("party"),
                departure=target,
                actor=turn.actor(),
                source=turn.conversation.channel,
            )
            if change.price.total_minor != pending.get("total_minor"):
                raise _PriceMoved(change)
    except _PriceMoved as moved:  # prices changed since the question: ask again
        ask_to_confirm(turn, moved.change)
        return
    except NotEnoughSeats:
        turn.say(
            voice._(
                "Sorry, those seats were just taken; {reference} is unchanged.",
                reference=booking.reference,
            )
        )
        return
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    what = "Date change (done)" if change.moves else "Party change (done)"
    if change.over_paid_minor:
        over = STAFF.money(change.over_paid_minor, booking.currency)
        turn.task_for_staff(
            "refund",
            f"{what} on {booking.reference}: paid {over} over the new total, a refund to decide",
            booking=booking,
        )
    else:  # nothing to do: the rep is told
        counts = ratelimit.counter(turn.config.REDIS_URL)
        notify.booking_request(turn.session, turn.org, booking, what, turn.text, turn.now, counts)
    lines = [voice._("Done: {summary}", summary=replies.booking_summary(voice, booking))]
    if booking.status == BookingStatus.HELD:
        lines.append(
            voice._("Pay here: {link}", link=payments.pay_url(booking, turn.config.PUBLIC_BASE_URL))
        )
    elif change.owed_minor and change.difference_minor > 0:
        lines.append(_balance_line(turn, booking))
    turn.say("\n".join(lines))


class _PriceMoved(Exception):
    def __init__(self, change: booking_changes.Change) -> None:
        self.change = change


def keep_change(turn: Turn) -> None:
    ref = (turn.slot("change") or {}).get("booking", "")
    turn.goto(State.IDLE, change=None, moving=None, offered_moves=None)
    turn.say(turn.voice._("All right, {reference} stays as it is.", reference=ref))


# --- another date -----------------------------------------------------------------------


def move_request(turn: Turn) -> None:
    """Real departures of the same tour with room for the same party: on the day or time
    the message names, else the nearest to the booking's own date; with the price
    difference. Choosing one states the change; YES makes it."""
    voice = turn.voice
    booking = find_booking(turn, doubt=lambda theirs: {"kind": MOVE})
    if booking is None:
        return
    if booking.status not in booking_changes.CHANGEABLE:
        turn.say(
            voice._(
                "{reference} is {status}; a person will help with the date. Reply AGENT.",
                reference=booking.reference,
                status=phrases.status(booking.status),
            )
        )
        return
    options = _move_options(turn, booking)
    if not options:  # nothing to offer: a person looks for a way
        turn.instead(reschedule_request)
        return
    named = {"date", "time", "daypart"} & {k for k, v in details_in(turn.result).items() if v}
    if named and len(options) == 1:  # "move it to Sunday": that one, straight to the yes
        try:
            change = booking_changes.quote(
                turn.session, turn.org, booking, turn.now, departure=options[0]
            )
        except ServiceError as exc:
            turn.say(exc.said_by(voice))
            return
        ask_to_confirm(turn, change)
        return
    lines = [
        voice._(
            "{reference} is on {when}. Dates with room for {party}:",
            reference=booking.reference,
            when=voice.when(booking.departure.starts_at),
            party=phrases.party(voice, booking.party),
        )
    ]
    for number, dep in enumerate(options, 1):
        try:
            change = booking_changes.quote(turn.session, turn.org, booking, turn.now, departure=dep)
        except ServiceError:
            continue
        lines.append(
            voice._(
                "{number}) {when} – {difference}",
                number=number,
                when=voice.when(dep.starts_at),
                difference=_difference(turn, change),
            )
        )
    lines.append(voice._("Reply with the number to move your booking."))
    turn.say("\n".join(lines))
    turn.goto(
        State.MOVING,
        moving=booking.reference,
        booking=booking.reference,
        offered_moves=[d.code for d in options],
    )


def names_todays_weekday(text: str, today: date) -> bool:
    """The message names today's day of the week ("sunday", "domingo", "dimanche"), in
    any of the languages, not "today"."""
    names = {w for w, d in WEEKDAYS.items() if d == today.weekday()}
    for words in WORDS.values():
        names |= {w for w, d in words.weekdays.items() if d == today.weekday() and len(w) >= 4}
    said = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", said) for name in names)


def _difference(turn: Turn, change: booking_changes.Change) -> str:
    voice, currency = turn.voice, change.booking.currency
    if change.difference_minor > 0:
        return voice._("{amount} more", amount=voice.money(change.difference_minor, currency))
    if change.difference_minor < 0:
        return voice._("{amount} less", amount=voice.money(-change.difference_minor, currency))
    return voice._("same price")


def _move_options(turn: Turn, booking: Booking) -> list[Departure]:
    tour: Tour = booking.departure.tour
    seats = booking.seats
    told = details_in(turn.result)
    first = last = None
    if told.get("date"):
        first = last = date.fromisoformat(told["date"])
    elif told.get("dates"):
        first, last = (date.fromisoformat(d) for d in told["dates"])
    elif told.get("month"):
        year, month = (int(p) for p in told["month"].split("-"))
        first = date(year, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    clock, daypart = told.get("time"), told.get("daypart")
    today = turn.now.astimezone(turn.org.tz).date()
    if first == last == today and names_todays_weekday(turn.text, today):
        that_day = schedule.departures_between(turn.session, turn.org, tour, today, today, turn.now)
        left_today = [
            s for s in that_day if s.departure.id != booking.departure_id and s.spots_left >= seats
        ]
        if not left_today:
            # "Sunday" said on a Sunday with nothing left that day: the Sunday after.
            first = last = today + timedelta(days=7)
    if first is not None and last is not None and last >= today:
        day_seats = schedule.departures_between(
            turn.session, turn.org, tour, max(first, today), last, turn.now
        )
        if clock or daypart:
            day_seats = schedule.at_time_of_day(turn.org, day_seats, clock=clock, daypart=daypart)
        found = [
            s.departure
            for s in day_seats
            if s.departure.id != booking.departure_id and s.spots_left >= seats
        ]
        if found:
            return found[:MOVE_OPTIONS]
        near = schedule.nearest(
            turn.session, turn.org, tour, max(first, today), last, turn.now, party=booking.party
        )
        return [a.departure for a in near if a.departure.id != booking.departure_id][:MOVE_OPTIONS]
    if clock or daypart:  # "a later one": the same day first
        day = turn.org.local(booking.departure.starts_at).date()
        day_seats = schedule.departures_between(turn.session, turn.org, tour, day, day, turn.now)
        picked = [
            s.departure
            for s in schedule.at_time_of_day(turn.org, day_seats, clock=clock, daypart=daypart)
            if s.departure.id != booking.departure_id and s.spots_left >= seats
        ]
        if picked:
            return picked[:MOVE_OPTIONS]
    near = availability.alternatives(
        turn.session, turn.org, booking.departure, booking.party, turn.now, limit=MOVE_OPTIONS
    )
    return sorted((a.departure for a in near), key=lambda d: d.starts_at)


def choose_move(turn: Turn) -> None:
    voice = turn.voice
    offered = turn.slot("offered_moves") or []
    option = turn.result.entity("option")
    if option == -1 and offered:
        option = len(offered)
    if option is None and len(offered) == 1 and turn.reading.clear_yes:
        option = 1  # one date offered: "yes" is that one
    if not isinstance(option, int) or not 1 <= option <= len(offered):
        turn.say(voice._("Please reply with a number from 1 to {last}.", last=len(offered)))
        return
    booking = turn.session.scalar(
        select(Booking).where(
            Booking.organization_id == turn.org.id,
            Booking.customer_id == turn.customer.id,
            Booking.reference == turn.slot("moving"),
        )
    )
    dep = turn.departure(offered[option - 1])
    if booking is None or dep is None:
        turn.goto(State.IDLE, moving=None, offered_moves=None)
        turn.say(replies.menu_text(voice))
        return
    try:
        change = booking_changes.quote(turn.session, turn.org, booking, turn.now, departure=dep)
    except NotEnoughSeats:
        turn.say(voice._("Sorry, that date has just filled up. Please choose another."))
        return
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    ask_to_confirm(turn, change)


# --- the balance, a receipt, an invoice -------------------------------------------------


def balance_due(turn: Turn, booking: Booking) -> date:
    """The day the balance is due, by the one rule the confirmation, the reminders and the
    pay page state (payments.balance_due_at); today if that has passed."""
    due = payments.balance_due_at(turn.org, booking)
    return turn.org.local(max(due, turn.now)).date()


def _balance_line(turn: Turn, booking: Booking) -> str:
    voice = turn.voice
    due = balance_due(turn, booking)
    today = turn.now.astimezone(turn.org.tz).date()
    link = payments.pay_url(booking, turn.config.PUBLIC_BASE_URL)
    amount = voice.money(booking.balance_minor, booking.currency)
    if due <= today:
        return voice._("Balance {amount}, due now. Pay here: {link}", amount=amount, link=link)
    return voice._(
        "Balance {amount}, due {due}. Pay here: {link}",
        amount=amount,
        due=voice.date(due, year=True),
        link=link,
    )


def pay_balance(turn: Turn) -> None:
    """ "How do I pay the rest?": the hold's link, the balance with its due date and link,
    or that it is paid in full."""
    voice = turn.voice
    booking = find_booking(turn)
    if booking is None:
        return
    if booking.status == BookingStatus.HELD:
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
    elif booking.status == BookingStatus.CONFIRMED and booking.balance_minor:
        turn.say(
            voice._(
                "{reference}: paid {paid} of {total}.",
                reference=booking.reference,
                paid=voice.money(booking.paid_minor, booking.currency),
                total=voice.money(booking.total_minor, booking.currency),
            )
            + "\n"
            + _balance_line(turn, booking)
        )
    elif booking.status == BookingStatus.CONFIRMED:
        turn.say(
            voice._(
                "{reference} is paid in full ({total}). Nothing more to pay.",
                reference=booking.reference,
                total=voice.money(booking.total_minor, booking.currency),
            )
        )
    else:
        turn.say(replies.booking_summary(voice, booking))


def receipt(turn: Turn) -> None:
    voice = turn.voice
    booking = find_booking(turn, _RECEIPTABLE)
    if booking is None:
        return
    link = payments.pay_url(booking, turn.config.PUBLIC_BASE_URL)
    if not booking.paid_minor:
        turn.say(
            voice._(
                "Nothing has been paid for {reference} yet, so there's no receipt. "
                "Pay here: {link}",
                reference=booking.reference,
                link=link,
            )
        )
        return
    turn.say(
        voice._(
            "Your receipt for {reference}: paid {paid} of {total}. The booking's page shows "
            "it: {link}",
            reference=booking.reference,
            paid=voice.money(booking.paid_minor, booking.currency),
            total=voice.money(booking.total_minor, booking.currency),
            link=link,
        )
        + "\n"
        + voice._("Need a formal invoice? Reply INVOICE with the company name and details.")
    )


def invoice(turn: Turn) -> None:
    """An invoice is made by a person: a task for staff with the customer's words; the
    customer is told what to send if the message did not say it."""
    voice = turn.voice
    booking = find_booking(turn, _RECEIPTABLE)
    if booking is None:
        return
    turn.task_for_staff("invoice", f"Invoice request for {booking.reference}", booking=booking)
    has_details = bool(turn.result.entity("email")) or len(turn.text.split()) > 8
    lines = [
        voice._(
            "I've asked our team for an invoice for {reference}; they'll send it to you.",
            reference=booking.reference,
        )
    ]
    if not has_details:
        lines.append(
            voice._(
                "If it should be made out to a company, reply with its name, address, VAT "
                "number and the email to send it to."
            )
        )
        turn.remember(invoice_for=booking.reference)
    turn.say("\n".join(lines))
