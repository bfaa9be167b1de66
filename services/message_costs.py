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
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import phonenumbers
from babel.numbers import format_currency
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from models import Booking, Channel, Customer, Departure, Message, MessageStatus, Organization

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

    def add(self, category: str, micros: int, count: int = 1) -> None:
        """count messages of a category costing micros each."""
        self.messages += count
        self.cost_micros += micros * count
        self.by_category[category] += count


def total(usages: Iterable[Usage]) -> Usage:
    out = Usage()
    for usage in usages:
        out.messages += usage.messages
        out.cost_micros += usage.cost_micros
        out.by_category.update(usage.by_category)
    return out


LEAD_UP = timedelta(days=30)


def billing(
    channel: str, category: str | None, template_sid: str | None, phone: str, body: str | None
) -> tuple[int, str | None]:
    """What an outbound message is billed on, recorded when it is written (Message.units
    and country): SMS segments (else 1) and the recipient's country."""
    billed_as = category or category_of(channel, template_sid, True)
    return (segments(body or "") if billed_as == SMS else 1), country_of(phone)


def _earlier(session: Session, column: Any, delta: timedelta) -> Any:
    """column - delta in SQL (SQLite, for local runs, has no intervals)."""
    seconds = int(delta.total_seconds())
    if session.get_bind().dialect.name == "sqlite":
        return func.datetime(column, f"-{seconds} seconds")
    return column - literal_column(f"interval '{seconds} seconds'")


def usage_by_booking(
    session: Session, org: Organization, *where: ColumnElement[bool]
) -> dict[int, Usage]:
    """Messages and their cost for each booking matching `where` that has any (by id).

    Counted in SQL, grouped by booking, category, country and units (a year's 10,000
    bookings: one query, not a quarter of a million rows priced in Python). A message of
    the conversation (no booking_id) goes to the first of these bookings its customer made
    within LEAD_UP after it, else to each of them open when it was sent: each booking
    reads its customer's messages from LEAD_UP before it was made to its departure's end
    (one index range each), and a window over each message's bookings picks."""
    keys = (
        select(
            Booking.id.label("id"),
            Customer.phone.label("phone"),
            Booking.created_at.label("created_at"),
            _earlier(session, Booking.created_at, LEAD_UP).label("lead_from"),
            Departure.ends_at.label("ends_at"),
        )
        .join(Customer, Customer.id == Booking.customer_id)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Booking.organization_id == org.id, *where)
        .cte("booking_keys")
    )
    category = func.coalesce(
        Message.category, case((Message.channel == Channel.WHATSAPP, SERVICE), else_=SMS)
    ).label("category")
    units = func.coalesce(Message.units, 1).label("units")
    billed = (
        Message.organization_id == org.id,
        Message.direction == "outbound",
        Message.status.in_(BILLED_STATUSES),
    )
    about = (
        select(keys.c.id.label("booking_id"), category, Message.country, units)
        .join(keys, keys.c.id == Message.booking_id)
        .where(*billed, Message.booking_id.is_not(None))
    )
    # Each booking's customer's messages from LEAD_UP before it was made to its end.
    talk = (
        Message.id.label("message_id"),
        Message.created_at.label("sent_at"),
        category,
        Message.country.label("country"),
        units,
    )
    in_reach = (
        *billed,
        Message.booking_id.is_(None),
        Message.to_phone == keys.c.phone,
        Message.created_at >= keys.c.lead_from,
        Message.created_at <= keys.c.ends_at,
    )
    booking = (keys.c.id.label("booking_id"), keys.c.created_at.label("made"))
    if session.get_bind().dialect.name == "postgresql":
        # One range of ix_messages_billed_talk per booking. OFFSET 0 keeps the planner
        # from flattening the LATERAL into a join, which it answered by sorting every
        # billed message by phone to merge them (a year: 230 ms against 60).
        reach = select(*talk).where(*in_reach).offset(0).lateral("talk")
        raw = select(*booking, reach).select_from(keys.join(reach, true())).subquery()
    else:  # SQLite, for local runs: no LATERAL
        raw = (
            select(*booking, *talk)
            .join_from(keys, Message, and_(*in_reach[-3:]))
            .where(*in_reach[:-3])
            .subquery()
        )
    # Made after the message (or with it): the message led to it; else it was open.
    leads_to = case((raw.c.made >= raw.c.sent_at, 1), else_=0)
    pairs = select(
        raw.c.booking_id,
        raw.c.category,
        raw.c.country,
        raw.c.units,
        leads_to.label("leads_to"),
        # The first booking it led to comes first; any_lead: it led to one.
        func.row_number()
        .over(
            partition_by=raw.c.message_id,
            order_by=(leads_to.desc(), raw.c.made, raw.c.booking_id),
        )
        .label("n"),
        func.max(leads_to).over(partition_by=raw.c.message_id).label("any_lead"),
    ).subquery()
    counted = select(pairs.c.booking_id, pairs.c.category, pairs.c.country, pairs.c.units).where(
        or_(and_(pairs.c.leads_to == 1, pairs.c.n == 1), pairs.c.any_lead == 0)
    )
    every = union_all(about, counted).subquery()
    rows = session.execute(
        select(
            every.c.booking_id, every.c.category, every.c.country, every.c.units, func.count()
        ).group_by(every.c.booking_id, every.c.category, every.c.country, every.c.units)
    ).tuples()
    prices = org.settings.message_prices
    usage: dict[int, Usage] = defaultdict(Usage)
    for booking_id, category_, country, units_, n in rows:
        price = prices.price(category_, country)
        usage[booking_id].add(category_, int((price * MICROS * units_).to_integral_value()), n)
    return dict(usage)
