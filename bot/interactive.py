"""The choices a reply offers, as WhatsApp rows and buttons (Turn.offer): departures as a
list picker, a price as quick replies (hold / change party / other dates), a full date's
choices, a hold's payment as link buttons (deposit / full), a cancellation to confirm.
The words stay the reply's own (numbered, "reply YES") for SMS and any fallback; the
buttons' payloads go back to the state machine as taps (bot/states.py TAPS, bot/taps.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.turn import Turn
from models import Booking, Departure
from services import payments
from services.availability import AvailableDeparture
from services.i18n import Voice
from services.pricing import PriceBreakdown
from services.whatsapp_content import MAX_ROWS, Choice, Interactive, payload


def departures(turn: Turn, found: Sequence[AvailableDeparture], intro: str) -> Interactive | None:
    """ "Sat 12 Dec 17:30" / "20 spots left · $156", one row each."""
    return departure_rows(
        turn,
        intro,
        [
            (item.departure, spots_and_price(turn.voice, item.spots_left, item.price))
            for item in found
        ],
    )


def spots_and_price(voice: Voice, spots_left: int, price: PriceBreakdown | None) -> str:
    spots = voice.n_("{n} spot left", "{n} spots left", spots_left)
    if price is None:
        return spots
    return voice._(
        "{spots} · {total}", spots=spots, total=voice.money(price.total_minor, price.currency)
    )


def departure_rows(
    turn: Turn, intro: str, rows: Sequence[tuple[Departure, str]]
) -> Interactive | None:
    """A list picker of departures: each row's title its day and time, its description
    given (room and price, or full)."""
    if not rows or len(rows) > MAX_ROWS:
        return None
    voice = turn.voice
    # A row's title has 24 characters: the day and time there, and for a customer abroad
    # whose clock it is ("17:30 Kathmandu time") in the description.
    bare = replace(voice, zone_label=False)
    # Several tours' departures (a day's list, bot/departure_lists.py): the tour is the
    # title, so the customer tells the rows apart; the day and time lead the description.
    several_tours = len({dep.tour_id for dep, _ in rows}) > 1
    choices = []
    for dep, description in rows:
        if voice.zone_label:
            description = f"{voice.clock(dep.starts_at)} · {description}"
        title = bare.when(dep.starts_at)
        if several_tours:
            title, description = dep.tour.name, f"{title} · {description}"
        choices.append(Choice(payload("dep", dep.code), title, description))
    body = "\n".join([intro, voice._("Tap See times and pick one.")])
    return Interactive("departures", body, tuple(choices))


def hold_key(code: str, party: dict[str, int]) -> str:
    """What a Hold button holds: the departure and the party it was priced for
    ("SUN-1212/adult2.child1"), so a tap on an older quote is not taken for the newest."""
    return f"{code}/" + ".".join(f"{tier}{n}" for tier, n in sorted(party.items()))


def quote(
    turn: Turn, dep: Departure, text: str, price: PriceBreakdown, hold_period: str
) -> Interactive:
    """The quote's lines, its question without "reply YES", and hold / party / dates."""
    voice = turn.voice
    lines = text.split("\n")[:-1]  # the last line is the question with "Reply YES"
    lines.append(
        voice.n_(
            "Shall I hold {n} seat {period}?",
            "Shall I hold {n} seats {period}?",
            price.seats,
            period=hold_period,
        )
    )
    return Interactive(
        "quote",
        "\n".join(lines),
        (
            Choice(payload("hold", hold_key(dep.code, turn.party() or {})), voice._("Hold seats")),
            Choice(payload("party", dep.code), voice._("Change party")),
            Choice(payload("dates", dep.code), voice._("Other dates")),
        ),
    )


def full(
    turn: Turn, full_dep: Departure, headline: str, alternative: AvailableDeparture | None
) -> Interactive:
    voice = turn.voice
    wait = Choice(payload("wait", full_dep.code), voice._("Join waitlist"))
    others = Choice(payload("dates", full_dep.code), voice._("Other dates"))
    if alternative is None:
        return Interactive("full_no_alternative", headline, (others, wait))
    body = "\n".join(
        [
            headline,
            voice.n_(
                "Nearest date: {when}, {n} spot left.",
                "Nearest date: {when}, {n} spots left.",
                alternative.spots_left,
                when=voice.when(alternative.departure.starts_at),
            ),
        ]
    )
    near = Choice(payload("near", alternative.departure.code), voice._("Nearest date"))
    return Interactive("full", body, (near, wait, others))


def pay(voice: Voice, booking: Booking, lead: str, base_url: str | None) -> Interactive:
    """Link buttons straight to paying the deposit or the whole amount."""
    link = payments.pay_url(booking, base_url)
    amounts = voice._(
        "Deposit {deposit} or pay in full {total}.",
        deposit=voice.money(booking.deposit_minor, booking.currency),
        total=voice.money(booking.total_minor, booking.currency),
    )
    deposit_differs = 0 < booking.deposit_minor < booking.balance_minor
    if not deposit_differs:
        amounts = voice._(
            "To pay: {amount}.", amount=voice.money(booking.balance_minor, booking.currency)
        )
        return Interactive(
            "pay_full", f"{lead}\n{amounts}", (Choice(f"{link}?pay=full", voice._("Pay now")),)
        )
    return Interactive(
        "pay",
        f"{lead}\n{amounts}",
        (
            Choice(f"{link}?pay=deposit", voice._("Pay deposit")),
            Choice(f"{link}?pay=full", voice._("Pay in full")),
        ),
    )


def hold_pay(turn: Turn, booking: Booking, held: str) -> Interactive:
    """After a hold: what is held, its reference and expiry, then the pay buttons."""
    voice = turn.voice
    assert booking.hold_expires_at is not None
    lead = "\n".join(
        [
            held,
            voice._(
                "Booking: {reference}\nHold expires: {expires}",
                reference=booking.reference,
                expires=voice.when(booking.hold_expires_at),
            ),
        ]
    )
    return pay(voice, booking, lead, turn.config.PUBLIC_BASE_URL)


def cancel(turn: Turn, booking: Booking, refund: str) -> Interactive:
    voice = turn.voice
    body = "\n".join(
        [
            voice._(
                "Cancel {reference} ({tour}, {when})?",
                reference=booking.reference,
                tour=booking.departure.tour.name,
                when=voice.when(booking.departure.starts_at),
            ),
            refund,
        ]
    )
    return Interactive(
        "cancel",
        body,
        (
            Choice(payload("cancel", booking.reference), voice._("Yes, cancel")),
            Choice(payload("keep", booking.reference), voice._("Keep booking")),
        ),
    )
