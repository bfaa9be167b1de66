"""What messaging costs, per booking. Each outbound message records what it is billed as
(its category): `service` (WhatsApp inside the customer's 24-hour window: a reply, rows or
buttons), `utility` (a WhatsApp template outside it), `marketing` (none of ours today), or
`sms`. The organization's settings give a price per category and country
(settings.message_prices, models/settings.MessagePrices); an SMS costs that per segment.

A booking's messages: those about it (booking_id: reminders, payment links, its approval,
its cancellation) and the rest of the conversation with its customer: what led to it (up
to LEAD_UP before it was made, and after any earlier booking of theirs was made) and what
followed until its departure ended (shared by bookings open at once). Only messages that went
count (answered in the webhook, or accepted by Twilio and not failed). Costs are at the
prices configured now, in millionths of the organization's currency (a message costs less
than a cent)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from babel.numbers import format_currency
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from models import Booking, Channel, Message, MessageStatus, Organization
from models.settings import MessagePrices

SERVICE, UTILITY, MARKETING, SMS = "service", "utility", "marketing", "sms"
CATEGORIES = (SERVICE, UTILITY, MARKETING, SMS)
# Went out: answered in the webhook's TwiML, or taken by Twilio and not failed.
BILLED_STATUSES = (
    MessageStatus.REPLY,
    MessageStatus.ACCEPTED,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
)
MICROS = 1_000_000
GSM = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def category_of(channel: str, template_sid: str | None, inside_window: bool) -> str:
    """What a message is billed as: SMS; a WhatsApp template outside the window (utility);
    anything on WhatsApp inside it (service)."""
    if channel != Channel.WHATSAPP:
        return SMS
    return UTILITY if template_sid and not inside_window else SERVICE


@lru_cache(maxsize=4096)
def country_of(phone: str) -> str | None:
    """ "+447911123456" -> "GB"; None when the number says nothing."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or None
    except phonenumbers.NumberParseException:
        return None


def segments(body: str) -> int:
    """SMS segments: 160 GSM characters (153 each when split), or 70 (67) otherwise."""
    single, part = (160, 153) if set(body) <= GSM else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / part)


def cost_micros(prices: MessagePrices, message: Message) -> int:
    category = message.category or category_of(message.channel, message.template_sid, True)
    return _micros(prices, category, message.to_phone, message.body)


def _micros(prices: MessagePrices, category: str, phone: str, body: str | None) -> int:
    price = prices.price(category, country_of(phone))
    count = segments(body or "") if category == SMS else 1
    return int((price * MICROS * count).to_integral_value())


def format_cost(micros: int, currency: str) -> str:
    """Up to four decimals, since a message costs less than a cent: "$0.0083", "$1.20"."""
    value = (Decimal(micros) / MICROS).quantize(Decimal("0.0001"))
    return format_currency(
        value, currency, format="¤#,##0.00##", currency_digits=False, locale="en_US"
    )


def major(micros: int) -> str:
    """For a CSV: "0.0083"."""
    return f"{(Decimal(micros) / MICROS).quantize(Decimal('0.0001'))}"


@dataclass
class Usage:
    messages: int = 0
    cost_micros: int = 0
    by_category: Counter[str] = field(default_factory=Counter)

    def add(self, category: str, micros: int) -> None:
        self.messages += 1
        self.cost_micros += micros
        self.by_category[category] += 1


LEAD_UP = timedelta(days=30)


@dataclass(frozen=True)
class BookingKey:
    """What attributing messages needs of a booking."""

    id: int
    phone: str
    created_at: datetime
    ends_at: datetime


def key_of(booking: Booking) -> BookingKey:
    return BookingKey(
        booking.id, booking.customer.phone, booking.created_at, booking.departure.ends_at
    )


def _bookings_for(at: datetime, bookings: list[BookingKey]) -> list[BookingKey]:
    """The customer's bookings a conversation message counts toward: the first made after
    it (it led to that one), else those open when it was sent."""
    after = [b for b in bookings if at <= b.created_at <= at + LEAD_UP]
    if after:
        return [min(after, key=lambda b: b.created_at)]
    return [b for b in bookings if b.created_at <= at <= b.ends_at]


def usage_by_booking(
    session: Session, org: Organization, bookings: list[BookingKey]
) -> dict[int, Usage]:
    """Messages and their cost for each booking (by id)."""
    usage = {b.id: Usage() for b in bookings}
    if not bookings:
        return usage
    prices = org.settings.message_prices
    ids = {b.id for b in bookings}
    by_phone: dict[str, list[BookingKey]] = {}
    for booking in bookings:
        by_phone.setdefault(booking.phone, []).append(booking)
    earliest = min(b.created_at for b in bookings) - LEAD_UP
    latest = max(b.ends_at for b in bookings)
    # Columns, not rows (a year's report reads a quarter of a million messages): the words
    # only of SMS, whose price is per segment.
    columns = (
        Message.booking_id,
        Message.to_phone,
        Message.created_at,
        Message.category,
        Message.channel,
        Message.template_sid,
        case((Message.channel == Channel.SMS, Message.body), else_=None),
    )
    billed = (
        Message.organization_id == org.id,
        Message.direction == "outbound",
        Message.status.in_(BILLED_STATUSES),
    )
    # Two queries, each on its index: those about the bookings, and the rest of their
    # customers' conversations in the time that can count.
    about = session.execute(select(*columns).where(*billed, Message.booking_id.in_(ids)))
    talk = session.execute(
        select(*columns).where(
            *billed,
            Message.to_phone.in_(list(by_phone)),
            Message.created_at >= earliest,
            Message.created_at <= latest,
            Message.booking_id.is_(None),
        )
    )
    price: dict[tuple[str, str], int] = {}

    def micros(category: str, phone: str, body: str | None) -> int:
        key = (category, phone)
        if key not in price:
            price[key] = _micros(prices, category, phone, None)
        return price[key] * (segments(body or "") if category == SMS else 1)

    rows = [*about, *talk]
    for booking_id, phone, at, category, channel, template_sid, body in rows:
        category = category or category_of(channel, template_sid, True)
        cost = micros(category, phone, body)
        if booking_id is not None:
            if booking_id in usage:
                usage[booking_id].add(category, cost)
            continue  # about another booking
        for booking in _bookings_for(at, by_phone.get(phone, [])):
            usage[booking.id].add(category, cost)
    return usage
