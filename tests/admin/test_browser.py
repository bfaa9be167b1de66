"""The admin in a real headless Chromium (Debian's package, driven by Playwright), against
the app served on localhost over HTTP with PostgreSQL: a sales rep's busy morning.

Screenshots of the inbox, a manifest and the dashboard are saved in test-artifacts/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from app import create_app
from cli.chat import inbound_form
from config import TestConfig
from models import Booking, BookingStatus, Lead, Message, Quote, utcnow
from tests.admin.support import admin_catalog
from tests.chat import AUTH_TOKEN, WHATSAPP_NUMBER
from tests.conftest import import_org
from tests.factories import hold
from tests.staff import PASSWORD, make_staff

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CUSTOMER = "+12025550188"

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(pg_url: str, factory: sessionmaker[Session]) -> Iterator[str]:
    """The app on a free localhost port, in a thread, with its real PostgreSQL database."""
    config = TestConfig()
    config.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    server = make_server("127.0.0.1", 0, Flask("placeholder"), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    config.PUBLIC_BASE_URL = base_url
    server.app = create_app(config)  # type: ignore[attr-defined]
    with factory() as s:
        org = import_org(s, utcnow(), **admin_catalog())
        make_staff(s, org, "sales", "sam@example.com", "Sam Sales")
        for n, diet in enumerate(("vegetarian", None, "no nuts – severe allergy")):
            booking = hold(s, org, "CITY0", f"+1202555017{n}", utcnow(), adults=2 - n % 2)
            booking.customer.name = ("Lena Park", "Tom Baker", "Ravi Shah")[n]
            booking.dietary_notes = diet
            booking.status = BookingStatus.CONFIRMED
            booking.paid_minor = booking.total_minor
        s.commit()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()


def whatsapp_in(base_url: str, text: str) -> None:
    """A customer's WhatsApp message, posted over HTTP and signed exactly as Twilio signs."""
    form = inbound_form(f"whatsapp:{CUSTOMER}", f"whatsapp:{WHATSAPP_NUMBER}", text, "Nora")
    url = f"{base_url}/webhooks/twilio/messages"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    response = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code == 200, response.text


def test_a_sales_rep_replies_quotes_and_holds_in_a_real_browser(
    browser: object, live_app: str, factory: sessionmaker[Session]
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page.set_default_timeout(15_000)

    page.goto(f"{live_app}/admin/inbox")
    assert "/admin/login" in page.url
    page.fill("input[name=email]", "sam@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/inbox")

    # A new WhatsApp message appears without a reload.
    whatsapp_in(live_app, "Hi! I'm interested in the Old City Walk for 2 people")
    whatsapp_in(live_app, "can I talk to someone please")
    row = page.locator("#inbox-rows tr", has_text="Nora")
    row.wait_for()
    assert "wants a person" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)

    # Reply from the thread; the reply goes out through the outbox on WhatsApp.
    row.locator("a").first.click()
    page.locator(".msg.inbound", has_text="can I talk to someone").wait_for()
    page.fill("#reply-body", "Hi Nora, Sam here. Happy to help with the city walk!")
    page.click("#reply-form button[type=submit]")
    page.locator(".flash.success", has_text="Reply sent").wait_for()
    page.locator(".msg.outbound", has_text="Sam here").wait_for()
    whatsapp_in(live_app, "Great, is the 9am one ok?")
    page.locator(".msg.inbound", has_text="is the 9am one ok").wait_for()  # polled in

    # Quote: preview first, then send; then hold the seats.
    page.click("aside a[href*='/admin/leads/LD-']")
    page.select_option("#departure", "CITY3")
    page.click("#quote-preview-form button[type=submit]")
    page.fill("input[name=tier_adult]", "2")
    page.click("#quote-preview-form button[type=submit]")
    preview = page.locator("#quote-preview")
    preview.wait_for()
    assert "$25 × 2 = $50" in preview.inner_text()
    page.click("#send-quote")
    page.locator(".flash.success", has_text="Quote").wait_for()
    page.select_option("#departure", "CITY3")
    page.fill("input[name=tier_adult]", "2")
    page.click("#quote-preview-form button[type=submit]")
    page.click("#hold-seats")
    page.locator(".flash.success", has_text="Payment link sent").wait_for()

    # The customer's messages, with their delivery status, are on the customer's page.
    page.goto(f"{live_app}/admin/search?q={CUSTOMER}")
    page.click("text=Nora")
    messages = page.locator("table.messages", has_text="Payment link").inner_text()
    assert "Sam here" in messages and "Your quote QT-" in messages and "/pay/BK-" in messages

    with factory() as s:
        out = list(
            s.scalars(
                select(Message)
                .where(Message.to_phone == CUSTOMER, Message.kind != "reply")
                .order_by(Message.id)
            )
        )
        booking = s.scalars(select(Booking).where(Booking.source == "admin")).one()
        quote = s.scalars(select(Quote)).one()
        lead = s.scalars(select(Lead)).one()
    assert [m.kind for m in out] == ["agent", "notification", "notification"]
    assert {m.channel for m in out} == {"whatsapp"} and {m.status for m in out} == {"sent"}
    assert booking.status == BookingStatus.HELD and booking.seats == 2
    assert booking.lead_id == lead.id and quote.lead_id == lead.id and quote.total_minor == 5000

    # A departure's manifest, dietary needs standing out, and the dashboard.
    page.goto(f"{live_app}/admin/departures/CITY0/manifest")
    assert page.locator(".diet", has_text="no nuts").count() == 1
    assert "5 guests" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "manifest.png"), full_page=True)
    page.goto(f"{live_app}/admin/departures/CITY0")
    page.screenshot(path=str(ARTIFACTS / "departure.png"), full_page=True)
    page.goto(f"{live_app}/admin/")
    assert "CITY0" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
