"""Every admin page, found from the app's url_map, and a small organization with one of
everything to show on them (a conversation with a handoff, an opted-out customer, leads,
paid and held bookings, an incident, a cancelled departure, long names and links that
would push a careless layout sideways).

A new page needs nothing here unless its address takes a parameter whose name is not in
`sample_values`: then add one line there (test_every_page says which)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.chat import inbound_form, post_inbound
from extensions import app_config
from models import (
    BookingStatus,
    Conversation,
    Customer,
    Guide,
    Incident,
    Lead,
    StaffUser,
    utcnow,
)
from services import (
    assignments,
    cancellations,
    checkout,
    incidents,
    payments,
    ratelimit,
    settlement,
)
from services import staff as staff_service
from tests.admin.support import OPS, OWNER, SALES, admin_catalog, the_org
from tests.chat import AUTH_TOKEN, WHATSAPP_NUMBER
from tests.conftest import import_org
from tests.factories import departure, hold
from tests.staff import make_staff

ROLES = {"owner": OWNER, "ops": OPS, "sales": SALES}
# Served as JSON or files, not pages (fetched by the pages' script, or a file a customer
# sent), and logging out.
NOT_PAGES = {
    "admin.inbox_poll",
    "admin.conversation_poll",
    "admin.logout",
    "admin.reports_csv",
    "admin.crisis_preview",
    "admin.customer_lookup",
    "admin.booking_new_free",
    "admin.media_file",
}

BATCH = "CXSEED000001"
LONG_NAME = "Maximilian Alexander Fitzgerald-Worthington-Smythe the Third of Kathmandu"
LONG_LINK = "https://maps.example.com/place/" + "Thamel-Marg-" * 12 + "?q=27.7154,85.3123"


@dataclass
class Page:
    endpoint: str
    url: str

    @property
    def name(self) -> str:
        return self.endpoint.removeprefix("admin.")


def whatsapp(client: FlaskClient, base_url: str, phone: str, text: str, name: str) -> None:
    form = inbound_form(f"whatsapp:{phone}", f"whatsapp:{WHATSAPP_NUMBER}", text, name)
    status, _ = post_inbound(client, form, AUTH_TOKEN, base_url)
    assert status == 200, status


def seed(app: Flask, factory: sessionmaker[Session], base_url: str) -> dict[str, Any]:
    """The organization the page checks run on; returns the values for parametrised
    addresses (sample_values)."""
    now = utcnow()
    with factory() as s:
        org = import_org(s, now, **admin_catalog())
        make_staff(s, org, "owner", OWNER, "Olivia Owner")
        make_staff(s, org, "ops", OPS, "Priya Ops")
        make_staff(s, org, "sales", SALES, "Sam Sales")
    client = app.test_client()
    # A customer who asked for a person, with a long message and a long link.
    nora = "+12025550188"
    whatsapp(client, base_url, nora, "Hi! I'm interested in the Old City Walk for 2 people", "Nora")
    whatsapp(client, base_url, nora, f"We stay here: {LONG_LINK} can I talk to someone", "Nora")
    # A customer with a very long name who then opted out.
    whatsapp(client, base_url, "+12025550199", "Hello, sunset tour tomorrow?", LONG_NAME)
    whatsapp(client, base_url, "+12025550199", "STOP", LONG_NAME)
    with factory() as s:
        org = the_org(s)
        diets = ("vegetarian", None, "no nuts – severe allergy, carries an EpiPen")
        for n, diet in enumerate(diets):
            booking = hold(s, org, "CITY0", f"+1202555017{n}", now, adults=2 - n % 2)
            booking.customer.name = ("Lena Park", "Tom Baker", LONG_NAME)[n]
            booking.dietary_notes = diet
            booking.status = BookingStatus.CONFIRMED
            booking.paid_minor = booking.total_minor
        paid = hold(s, org, "EBC100", "+12025550141", now, adults=2)
        paid.customer.name = "Grace Hopper"
        fake = payments.StripeAccount(None)  # the embedded default's fake checkout
        payment, _ = checkout.start_checkout(s, org, paid, "deposit", now, base_url, fake)
        settlement.settle(
            s, org, payment, now, stripe=fake, counts=ratelimit.counter(None), source="fake"
        )
        dep = departure(s, org, "CITY0")
        incidents.report_issue(s, org, dep.guide, dep, "Guest twisted an ankle at the stupa", now)
        assignments.add_time_off(  # the guide page's list, with a long reason
            s,
            org,
            dep.guide,
            now + timedelta(days=20),
            now + timedelta(days=23),
            now,
            reason="family wedding in Pokhara, back on the first bus on Tuesday morning",
        )
        doomed = departure(s, org, "CITY4")
        hold(s, org, doomed, "+12025550151", now, adults=1)
        cancellations.cancel_departure(
            s, org, doomed, "landslide on the road", now, stripe=fake, actor="ops", batch=BATCH
        )
        invited = staff_service.invite(
            s, org, email="ivy@example.com", name="Ivy Invited", role="sales"
        )
        s.commit()
        conversation = s.scalars(
            select(Conversation).join(Customer).where(Customer.phone == nora)
        ).one()
        return {
            "conv_id": conversation.id,
            "customer_id": conversation.customer_id,
            "lead_reference": s.get(Lead, conversation.lead_id).reference,  # type: ignore[union-attr]
            "booking_reference": paid.reference,
            "code": "CITY0",
            "cancelled_code": "CITY4",
            "incident_id": s.scalars(select(Incident.id)).first(),
            "user_id": s.scalars(select(StaffUser.id).where(StaffUser.email == SALES)).one(),
            "guide_id": s.scalars(select(Guide.id)).first(),
            "batch": BATCH,
            "token": staff_service.invite_token(invited, app_config(app).signing_key),
        }


def sample_values(endpoint: str, rule: str, seeded: dict[str, Any]) -> dict[str, Any]:
    """A value for each parameter of a page's address, from the seeded organization."""
    values: dict[str, Any] = {}
    for argument in rule_arguments(rule):
        if argument == "reference":
            values[argument] = (
                seeded["lead_reference"] if "/leads/" in rule else seeded["booking_reference"]
            )
        elif argument == "code":
            cancelled = endpoint == "admin.departure_cancellation"
            values[argument] = seeded["cancelled_code" if cancelled else "code"]
        elif argument in seeded:
            values[argument] = seeded[argument]
        else:
            raise LookupError(
                f"{endpoint} ({rule}) takes <{argument}>: add a sample value for it in "
                "tests/admin/pages.py (seed and sample_values)"
            )
    return values


def rule_arguments(rule: str) -> list[str]:
    import re

    return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)


def admin_pages(app: Flask, seeded: dict[str, Any]) -> list[Page]:
    """Every GET page under /admin: from the url_map, parameters filled from seeded data."""
    from flask import url_for

    pages = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if not rule.endpoint.startswith("admin.") or "GET" not in (rule.methods or ()):
                continue
            if rule.endpoint in NOT_PAGES:
                continue
            values = sample_values(rule.endpoint, rule.rule, seeded)
            pages.append(Page(rule.endpoint, url_for(rule.endpoint, **values)))
    return pages
