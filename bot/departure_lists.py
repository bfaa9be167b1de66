"""Lists of departures to choose from: a tour's (bot/booking.py searches), or every tour's
on the days asked when the customer has no tour in mind yet ("what do you have on
Saturday?", "anything tomorrow for 2?"). Choosing one continues in CHOOSING."""

from __future__ import annotations

from bot import interactive, replies
from bot.general import tour_names
from bot.states import State
from bot.turn import Turn
from services import availability, phrases
from services.errors import ServiceError
from services.i18n import N_

# A day's list across tours: as many as a WhatsApp list picker shows, fewer in a text.
WHATS_ON_LISTED = 8

# By (one day, party known).
LISTED = {
    (True, True): N_("On {day}, for {party}:"),
    (True, False): N_("On {day}:"),
    (False, True): N_("From {first} to {last}, for {party}:"),
    (False, False): N_("From {first} to {last}:"),
}
NOTHING = {
    (True, True): N_("Nothing has room for {party} on {day}."),
    (True, False): N_("Nothing has room on {day}."),
    (False, True): N_("Nothing has room for {party} from {first} to {last}."),
    (False, False): N_("Nothing has room from {first} to {last}."),
}


def offer_list(
    turn: Turn,
    found: list[availability.AvailableDeparture],
    intro: str,
    *,
    any_tour: bool = False,
) -> None:
    """any_tour: a day's list before any tour was chosen, where naming a tour ("o de
    comida") is the customer's choice even when the list does not have it."""
    voice = turn.voice
    lines = [intro] + [replies.option_line(voice, i, item) for i, item in enumerate(found, 1)]
    lines.append(voice._("Reply with the number to hold seats."))
    turn.say("\n".join(lines))
    turn.offer(interactive.departures(turn, found, intro))
    turn.goto(
        State.CHOOSING,
        offered=[item.departure.code for item in found],
        any_tour=any_tour or None,
    )


def whats_on(turn: Turn) -> None:
    """Every tour's departures with room on the days asked, priced for the party when it is
    known; nothing with room: which tour, whose nearest dates the search then finds."""
    voice, party = turn.voice, turn.party()
    first, last = turn.wanted_dates()
    today = turn.now.astimezone(turn.org.tz).date()
    if first is None or last is None:  # the rule asks for a day; a slot since cleared
        turn.say(voice._("Which date would you like?"))
        return
    if last < today:
        turn.remember(date=None, dates=None, month=None, week=None)
        turn.say(
            voice._("{date} has already passed.", date=voice.long_day(last))
            + " "
            + voice._("Which date would you like?")
        )
        return
    first = max(first, today)
    try:
        found = availability.search(
            turn.session,
            turn.org,
            turn.now,
            date_from=first,
            date_to=last,
            party=party,
            limit=WHATS_ON_LISTED,
        )
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    said = {"party": phrases.party(voice, party)} if party else {}
    if first == last:
        said["day"] = voice.long_day(first)
    else:
        said.update(first=voice.long_day(first), last=voice.long_day(last))
    if not found:
        turn.say(
            voice._(NOTHING[first == last, bool(party)], **said)
            + "\n"
            + voice._("Which tour would you like? We run: {tours}.", tours=tour_names(turn))
        )
        turn.goto(State.NEED_TOUR)
        return
    intro = voice._(LISTED[first == last, bool(party)], **said)
    offer_list(turn, found, intro, any_tour=True)
