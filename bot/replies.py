"""The words the bot says in more than one place, in the customer's voice (Turn.voice):
short, plain text that a phone shows well; money in the organization's currency, times in
its time zone."""

from __future__ import annotations

from decimal import Decimal

from models import Booking, BookingStatus, Tour
from services import phrases
from services.availability import AvailableDeparture
from services.i18n import Voice
from services.pricing import PriceBreakdown


def menu_text(voice: Voice) -> str:
    return voice._(
        "I can help you:\n"
        '• check availability (e.g. "sunset tour Saturday for 2")\n'
        "• get a price and hold seats\n"
        "• join a waitlist\n"
        "• check, change or cancel a booking\n"
        "• talk to a person (reply AGENT)\n"
        "Reply MENU any time to start over."
    )


def prices_line(voice: Voice, currency: str, tour: Tour) -> str:
    """ "Prices per person: Adult $49, Child $29." """
    tiers = sorted(tour.price_tiers, key=lambda t: t.position)
    if not tiers:
        return ""
    listed = ", ".join(
        voice._(
            "{tier} {price}",
            tier=phrases.tier_label(voice, t.code, t.label),
            price=voice.money(t.price_minor, currency),
        )
        for t in tiers
    )
    return voice._("Prices per person: {prices}.", prices=listed)


def option_line(voice: Voice, number: int, item: AvailableDeparture) -> str:
    """ "1) Sunset Tour, Sat 13 Mar 17:30 – 20 spots left – $49 × 2 = $98" """
    dep = item.departure
    spots = voice.n_("{n} spot left", "{n} spots left", item.spots_left)
    if item.price is None:
        return voice._(
            "{number}) {tour}, {when} – {spots}",
            number=number,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
            spots=spots,
        )
    return voice._(
        "{number}) {tour}, {when} – {spots} – {price}",
        number=number,
        tour=dep.tour.name,
        when=voice.when(dep.starts_at),
        spots=spots,
        price=phrases.price_breakdown(voice, item.price),
    )


def quote_text(
    voice: Voice,
    deposit_percent: Decimal,
    item_name: str,
    when: str,
    party: dict[str, int],
    price: PriceBreakdown,
    hold_period: str,
) -> str:
    money = voice.money
    return "\n".join(
        [
            voice._("{tour}, {when}", tour=item_name, when=when),
            voice._(
                "{party}: {price}",
                party=phrases.party(voice, party),
                price=phrases.price_breakdown(voice, price),
            ),
            voice._(
                "Deposit {deposit} ({percent}%), total {total}.",
                deposit=money(price.deposit_minor, price.currency),
                percent=voice.number(deposit_percent),
                total=money(price.total_minor, price.currency),
            ),
            voice.n_(
                "Shall I hold {n} seat {period}? Reply YES to hold.",
                "Shall I hold {n} seats {period}? Reply YES to hold.",
                price.seats,
                period=hold_period,
            ),
        ]
    )


def booking_summary(voice: Voice, booking: Booking) -> str:
    """ "BK-7Q2XA: held – Sunset Tour, Sat 13 Mar 17:30, 2 adults. Total $98. Held until …" """
    dep = booking.departure
    currency = booking.currency
    text = voice._(
        "{reference}: {status} – {tour}, {when}, {party}.",
        reference=booking.reference,
        status=phrases.status(booking.status),
        tour=dep.tour.name,
        when=voice.when(dep.starts_at),
        party=phrases.party(voice, booking.party),
    )
    total = voice.money(booking.total_minor, currency)
    if not booking.paid_minor:
        text += " " + voice._("Total {total}.", total=total)
    elif not booking.balance_minor:
        text += " " + voice._(
            "Total {total}, paid {paid}.",
            total=total,
            paid=voice.money(booking.paid_minor, currency),
        )
    else:
        text += " " + voice._(
            "Total {total}, paid {paid}, balance {balance}.",
            total=total,
            paid=voice.money(booking.paid_minor, currency),
            balance=voice.money(booking.balance_minor, currency),
        )
    if booking.hold_expires_at and booking.status == BookingStatus.HELD:
        text += " " + voice._("Held until {when}.", when=voice.when(booking.hold_expires_at))
    return text
