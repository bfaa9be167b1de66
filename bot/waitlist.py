"""The waitlist from the chat: joining it for a full departure, and answering an offer of a
freed seat (CONFIRM holds it, DECLINE stays in line)."""

from __future__ import annotations

from bot import interactive, keywords
from bot.lead_capture import ensure_lead, wants
from bot.states import State
from bot.turn import ASKED_PARTY, Turn
from models import Departure, LeadSource, WaitlistEntry
from services import payments, schedule, waitlist
from services.errors import ServiceError


def _named_departure(turn: Turn) -> Departure | None:
    """ "waitlist for the 6pm one on Saturday": the one departure of the tour at the day and
    time the message gives, if it names them."""
    tour = turn.tour()
    first, last = turn.wanted_dates()
    if (
        tour is None
        or first is None
        or last is None
        or not ({"date", "time", "daypart"} & turn.told)
    ):
        return None
    found = schedule.at_time_of_day(
        turn.org,
        schedule.departures_between(turn.session, turn.org, tour, first, last, turn.now),
        clock=turn.slot("time"),
        daypart=turn.slot("daypart"),
    )
    return found[0].departure if len(found) == 1 else None


def join_waitlist(turn: Turn) -> None:
    voice = turn.voice
    dep = _named_departure(turn) or turn.departure(turn.slot("full") or turn.slot("chosen"))
    if dep is None:
        turn.say(
            voice._(
                "Which tour and date would you like to wait for? "
                '(e.g. "waitlist sunset tour Saturday")'
            )
        )
        return
    party = turn.party()
    if not party:
        turn.remember(chosen=dep.code)
        turn.say(voice._("How many people should I put on the waitlist?"))
        turn.ask(ASKED_PARTY)
        turn.goto(State.FULL)
        return
    lead, _ = ensure_lead(
        turn, source=LeadSource.WAITLIST, summary=wants(turn, "joining the waitlist", dep)
    )
    try:
        with turn.session.begin_nested():
            entry = waitlist.join_waitlist(
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
    except ServiceError as exc:
        turn.say(exc.said_by(voice))
        return
    turn.say(
        voice.n_(
            "✓ Added to the waitlist\n{tour}, {when}\nPosition: #{position}\n"
            "If a spot opens I'll message you here; you'll have {n} hour to confirm.",
            "✓ Added to the waitlist\n{tour}, {when}\nPosition: #{position}\n"
            "If a spot opens I'll message you here; you'll have {n} hours to confirm.",
            turn.org.settings.waitlist_offer_hours,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
            position=waitlist.position(turn.session, entry),
        )
    )
    turn.goto(State.IDLE, full=None)


def answer_waitlist_offer(turn: Turn) -> None:
    """CONFIRM / DECLINE (or yes / no) to an open offer of a freed seat."""
    entry = turn.reading.waitlist_offer
    assert entry is not None  # the rule that routes here checked it
    word = turn.reading.keyword
    accept = word in keywords.OFFER_YES or (
        turn.result.intent == "affirm" and word not in keywords.OFFER_NO
    )
    answer_offer(turn, entry, accept)


def answer_offer(turn: Turn, entry: WaitlistEntry, accept: bool) -> None:
    """Accepts (a hold, and its pay link) or declines (back in line) an open offer; typed
    or tapped (bot/taps.py)."""
    try:
        with turn.session.begin_nested():
            if accept:
                booking = waitlist.accept_offer(
                    turn.session,
                    turn.org,
                    entry,
                    turn.now,
                    actor=turn.actor(),
                    source=turn.conversation.channel,
                )
            else:
                waitlist.decline_offer(
                    turn.session,
                    turn.org,
                    entry,
                    turn.now,
                    actor=turn.actor(),
                    source=turn.conversation.channel,
                )
    except ServiceError as exc:
        turn.say(exc.said_by(turn.voice))
        return
    if accept:
        turn.remember(booking=booking.reference, chosen=booking.departure.code)
        turn.goto(State.HELD)
        assert booking.hold_expires_at is not None
        turn.say(
            turn.voice._(
                "✅ It's yours! {reference} is held until {expires}.\nPay here to confirm: {link}",
                reference=booking.reference,
                expires=turn.voice.when(booking.hold_expires_at),
                link=payments.pay_url(booking, turn.config.PUBLIC_BASE_URL),
            )
        )
        turn.offer(
            interactive.pay(
                turn.voice,
                booking,
                turn.voice._(
                    "✅ It's yours! {reference} is held until {expires}.",
                    reference=booking.reference,
                    expires=turn.voice.when(booking.hold_expires_at),
                ),
                turn.config.PUBLIC_BASE_URL,
            )
        )
    else:
        turn.say(
            turn.voice._(
                "OK, you're still on the waitlist; I'll message you if another spot opens."
            )
        )
