"""What messaging costs: each outbound message records its category (service, utility,
marketing, sms); the owner sets a price per category and country; the booking page and
the report (page and CSV) show each booking's messages and their cost."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, Message, Organization, utcnow
from models.settings import MessagePrices
from services import message_costs
from tests.admin.test_reports import period
from tests.chat import Chat
from tests.factories import hold
from tests.staff import StaffClient
from tests.test_conversations import day, spoken

PRICES = {
    "price_service": "default 0.004",
    "price_utility": "default 0.02, gb 0.03",
    "price_marketing": "default 0.05",
    "price_sms": "default 0.05, US 0.0083",
}


def settings_form(owner: StaffClient) -> dict[str, str | list[str]]:
    page = owner.get("/admin/settings").text
    form: dict[str, str | list[str]] = {
        name: value
        for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page)
        if name not in ("csrf_token", "approval_required")  # a checkbox, unticked
    }
    return form


def test_prices_are_set_per_category_and_country_and_checked(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    page = owner.get("/admin/settings")
    # The defaults are shown, to change.
    assert 'name="price_utility"' in page.text and "default 0.013, US 0.009" in page.text
    refused = owner.post("/admin/settings", {**settings_form(owner), "price_sms": "US 0.01"})
    assert refused.status_code == 400 and "a &#39;default&#39; price is needed" in refused.text
    refused = owner.post("/admin/settings", {**settings_form(owner), "price_sms": "USA 1"})
    assert refused.status_code == 400 and "two-letter country code" in refused.text
    saved = owner.post("/admin/settings", {**settings_form(owner), **PRICES})
    assert saved.status_code == 200 and "Settings saved" in saved.text
    with factory() as s:
        prices = s.scalars(select(Organization)).one().settings.message_prices
    assert prices.utility == {"default": Decimal("0.02"), "GB": Decimal("0.03")}
    assert prices.price("sms", "US") == Decimal("0.0083")
    assert prices.price("sms", "NP") == Decimal("0.05")


def test_sms_segments() -> None:
    assert message_costs.segments("a" * 160) == 1
    assert message_costs.segments("a" * 161) == 2  # 153 a part once split
    assert message_costs.segments("a" * 307) == 3
    assert message_costs.segments("ü" * 160) == 1  # in the GSM alphabet
    assert message_costs.segments("ã" * 70) == 1 and message_costs.segments("ã" * 71) == 2
    assert message_costs.segments("👋" + "a" * 69) == 1


def test_each_booking_shows_its_messages_and_what_they_cost(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    owner.post("/admin/settings", {**settings_form(owner), **PRICES})
    ada = Chat(client, factory, phone="+12025550101", name="Ada")  # WhatsApp
    ben = Chat(client, factory, phone="+12025550102", name="Ben", whatsapp=False)  # SMS
    for chat in (ada, ben):
        chat.say(f"sunset tour on {spoken(day(2))} for 2 adults")
        chat.say("1")
        chat.say("yes")
    with factory() as s:
        rows = list(s.scalars(select(Message).where(Message.direction == "outbound")))
        refs = {b.customer.phone: b.reference for b in s.scalars(select(Booking)).unique().all()}
    to_ada = [m for m in rows if m.to_phone == ada.phone]
    to_ben = [m for m in rows if m.to_phone == ben.phone]
    assert to_ada and {m.category for m in to_ada} == {"service"}
    assert to_ben and {m.category for m in to_ben} == {"sms"}
    ben_segments = sum(message_costs.segments(m.body) for m in to_ben)
    assert ben_segments > len(to_ben)  # the quote is longer than one SMS
    ada_micros, ben_micros = 4000 * len(to_ada), 8300 * ben_segments
    ada_cost = message_costs.format_cost(ada_micros, "USD")  # "$0.012"
    ben_cost = message_costs.format_cost(ben_micros, "USD")
    assert ada_cost == f"${Decimal(ada_micros) / 10**6}".rstrip("0")

    page = owner.get(f"/admin/bookings/{refs[ada.phone]}")
    assert f"About this booking: {len(to_ada)} messages · {len(to_ada)} service" in page.text
    assert f"cost {ada_cost}" in page.text
    page = owner.get(f"/admin/bookings/{refs[ben.phone]}")
    assert f"{len(to_ben)} sms · cost {ben_cost}" in page.text

    week = f"from={utcnow().date() - timedelta(days=3)}&to={utcnow().date() + timedelta(days=3)}"
    report = owner.get(f"/admin/reports?{week}")
    assert report.status_code == 200 and 'id="messages"' in report.text
    assert ada_cost in report.text and ben_cost in report.text
    # Over a long period the page leaves it to the CSV (seconds for a year's bookings).
    long = owner.get(period(owner))
    assert "the CSV has every booking" in long.text and ada_cost not in long.text
    table = list(
        csv.reader(io.StringIO(owner.get(period(owner, "/admin/reports/messages.csv")).text))
    )
    assert table[0] == [
        "booking",
        "customer",
        "departure",
        "status",
        "messages",
        "service",
        "utility",
        "marketing",
        "sms",
        "cost (USD)",
    ]
    by_ref = {r[0]: r for r in table[1:]}
    n_ada, n_ben = str(len(to_ada)), str(len(to_ben))
    in_csv = [f"{Decimal(m) / 10**6:.4f}" for m in (ada_micros, ben_micros)]
    assert by_ref[refs[ada.phone]][4:] == [n_ada, n_ada, "0", "0", "0", in_csv[0]]
    assert by_ref[refs[ben.phone]][4:] == [n_ben, "0", "0", "0", n_ben, in_csv[1]]
    summary = dict(
        tuple(r)
        for r in csv.reader(
            io.StringIO(owner.get(period(owner, "/admin/reports/summary.csv")).text)
        )
    )
    assert summary["messages about bookings made"] == str(len(to_ada) + len(to_ben))
    # The summary's total (counted without the rows) is the sum of the table's rows.
    assert summary["messaging cost (USD)"] == f"{sum(Decimal(r[-1]) for r in table[1:]):.4f}"
    assert Decimal(summary["messaging cost (USD)"]) == Decimal(ada_micros + ben_micros) / 10**6


def _as_before(
    prices: MessagePrices,
    bookings: list[Booking],
    messages: list[Message],
) -> dict[int, tuple[int, dict[str, int], int]]:
    """The computation the report made in Python before it moved into SQL (commit
    bf88a45): each message priced from its words and phone, then given to the booking it
    is about, else the first of the customer's bookings made within 30 days after it,
    else every one of them open when it was sent. By booking: (messages, by category,
    cost in millionths)."""
    out: dict[int, tuple[int, dict[str, int], int]] = {}
    ids = {b.id for b in bookings}

    def add(booking_id: int, category: str, micros: int) -> None:
        n, cats, cost = out.get(booking_id, (0, {}, 0))
        out[booking_id] = (n + 1, {**cats, category: cats.get(category, 0) + 1}, cost + micros)

    for m in messages:
        if m.direction != "outbound" or m.status not in message_costs.BILLED_STATUSES:
            continue
        category = m.category or message_costs.category_of(m.channel, m.template_sid, True)
        price = prices.price(category, message_costs.country_of(m.to_phone))
        count = message_costs.segments(m.body) if category == message_costs.SMS else 1
        micros = int((price * message_costs.MICROS * count).to_integral_value())
        if m.booking_id is not None:
            if m.booking_id in ids:
                add(m.booking_id, category, micros)
            continue
        mine = [b for b in bookings if b.customer.phone == m.to_phone]
        after = [
            b for b in mine if m.created_at <= b.created_at <= m.created_at + message_costs.LEAD_UP
        ]
        if after:
            add(min(after, key=lambda b: b.created_at).id, category, micros)
            continue
        for b in mine:
            if b.created_at <= m.created_at <= b.departure.ends_at:
                add(b.id, category, micros)
    return out


def test_messaging_counted_in_sql_is_what_pricing_each_message_gave(
    app: Flask, factory: sessionmaker[Session]
) -> None:
    """Each booking's messages and cost from the stored units and country, counted in SQL,
    equal the old per-message computation: lead-up to the first booking made after a
    message, shared between bookings open at once, messages about a booking, SMS segments,
    countries' prices, failed and inbound messages left out; for every booking at once and
    for one booking alone (the booking page)."""
    now = utcnow()
    ada, kim = "+12025550171", "+447911123456"  # US (SMS at 0.0083), GB
    with factory() as s:
        org = s.scalars(select(Organization)).one()
        first = hold(s, org, "CITY3", ada, now)
        second = hold(s, org, "CITY4", ada, now)
        third = hold(s, org, "EBC100", kim, now)
        first.created_at = now - timedelta(days=40)
        second.created_at = now - timedelta(days=20)
        third.created_at = now - timedelta(days=3)
        long_sms = "Your balance is due. " * 12  # 252 GSM characters: 2 segments
        wrote = [
            # (to, days ago, channel, category, status, booking, body, direction)
            (ada, 49, "sms", "sms", "delivered", None, "hi", "outbound"),  # -> first
            (ada, 35, "sms", "sms", "sent", None, long_sms, "outbound"),  # -> second
            (ada, 10, "sms", "sms", "delivered", None, "see you", "outbound"),  # both open
            (ada, 10, "sms", "sms", "failed", None, "lost", "outbound"),  # not billed
            (ada, 10, "sms", None, "received", None, "thanks", "inbound"),
            (ada, 100, "sms", "sms", "delivered", None, "old", "outbound"),  # too early
            (ada, 5, "sms", "sms", "delivered", first.id, long_sms + "ü", "outbound"),
            (kim, 4, "whatsapp", "utility", "read", None, "Your trip", "outbound"),
            (kim, 4, "whatsapp", None, "reply", None, "Hello", "outbound"),  # service
            (kim, 2, "whatsapp", "marketing", "delivered", third.id, "Offer", "outbound"),
        ]
        for to, days, channel, category, status, booking_id, body, direction in wrote:
            at = now - timedelta(days=days)
            units, country = message_costs.billing(channel, category, None, to, body)
            s.add(
                Message(
                    organization_id=org.id,
                    direction=direction,
                    channel=channel,
                    from_phone=to if direction == "inbound" else "+14155238886",
                    to_phone="+14155238886" if direction == "inbound" else to,
                    body=body,
                    status=status,
                    category=category,
                    units=None if direction == "inbound" else units,
                    country=None if direction == "inbound" else country,
                    booking_id=booking_id,
                    created_at=at,
                    updated_at=at,
                )
            )
        s.commit()
        bookings = [first, second, third]
        messages = list(s.scalars(select(Message)))
        prices = org.settings.message_prices
        expected = _as_before(prices, bookings, messages)
        # The scenario reaches every rule: lead-up, shared, about a booking, segments.
        assert expected[first.id][0] == 3 and expected[second.id][0] == 2
        assert expected[first.id][1] == {"sms": 3} and expected[third.id][0] == 3

        def counted(*where: Any) -> dict[int, tuple[int, dict[str, int], int]]:
            usage = message_costs.usage_by_booking(s, org, *where)
            return {
                i: (u.messages, {c: n for c, n in u.by_category.items() if n}, u.cost_micros)
                for i, u in usage.items()
            }

        assert counted(Booking.id.in_([b.id for b in bookings])) == expected
        alone = _as_before(prices, [second], messages)
        assert counted(Booking.id == second.id) == alone
        assert alone[second.id][0] == 3  # led to by the messages of days 49 and 35
