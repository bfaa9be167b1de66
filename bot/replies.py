"""The words the bot says. Short, plain text that a phone shows well; money in the
organization's currency, times in its time zone."""

from __future__ import annotations

from models import Booking, BookingStatus, Organization, Tour
from models.enums import status_label
from services.availability import AvailableDeparture
from services.money import format_money
from services.notify import local_time
from services.pricing import PriceBreakdown

MENU = (
    "I can help you:\n"
    '• check availability (e.g. "sunset tour Saturday for 2")\n'
    "• get a price and hold seats\n"
    "• join a waitlist\n"
    "• check, change or cancel a booking\n"
    "• talk to a person (reply AGENT)\n"
    "Reply MENU any time to start over."
)


def party_text(party: dict[str, int]) -> str:
    names = {"adult": ("adult", "adults"), "child": ("child", "children")}
    parts = []
    for tier, count in party.items():
        one, many = names.get(tier, (tier, tier + "s"))
        parts.append(f"{count} {one if count == 1 else many}")
    return " + ".join(parts)


def prices_line(org: Organization, tour: Tour) -> str:
    """ "Prices per person: Adult $49, Child $29." """
    tiers = sorted(tour.price_tiers, key=lambda t: t.position)
    listed = ", ".join(f"{t.label} {format_money(t.price_minor, org.currency)}" for t in tiers)
    return f"Prices per person: {listed}." if tiers else ""


def option_line(org: Organization, n: int, item: AvailableDeparture) -> str:
    dep = item.departure
    spots = f"{item.spots_left} spot{'s' if item.spots_left != 1 else ''} left"
    price = f" – {item.price.describe()}" if item.price else ""
    return f"{n}) {dep.tour.name}, {local_time(org, dep.starts_at)} – {spots}{price}"


def quote_text(
    org: Organization,
    item_name: str,
    when: str,
    party: dict[str, int],
    price: PriceBreakdown,
    hold_period: str,
) -> str:
    lines = [f"{item_name}, {when}", f"{party_text(party)}: {price.describe()}"]
    lines.append(
        f"Deposit {format_money(price.deposit_minor, price.currency)} "
        f"({org.settings.deposit_percent.normalize():f}%), "
        f"total {format_money(price.total_minor, price.currency)}."
    )
    seats = price.seats
    lines.append(
        f"Shall I hold {seats} seat{'s' if seats != 1 else ''} {hold_period}? Reply YES to hold."
    )
    return "\n".join(lines)


def booking_summary(org: Organization, booking: Booking) -> str:
    dep = booking.departure
    money = format_money(booking.total_minor, booking.currency)
    text = (
        f"{booking.reference}: {status_label(booking.status)} – {dep.tour.name}, "
        f"{local_time(org, dep.starts_at)}, {party_text(booking.party)}. Total {money}"
    )
    if booking.paid_minor:
        text += f", paid {format_money(booking.paid_minor, booking.currency)}"
        if booking.balance_minor:
            text += f", balance {format_money(booking.balance_minor, booking.currency)}"
    text += "."
    if booking.hold_expires_at and booking.status == BookingStatus.HELD:
        text += f" Held until {local_time(org, booking.hold_expires_at)}."
    return text
