"""What messaging costs: each outbound message records its category (service, utility,
marketing, sms); the owner sets a price per category and country; the booking page and
the report (page and CSV) show each booking's messages and their cost."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Booking, Message, Organization, utcnow
from services import message_costs
from tests.admin.test_reports import period
from tests.chat import Chat
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
