"""Shared by the admin tests: the catalog they run on, and helpers that make the
objects staff work with (a lead, an incident, a paid booking)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Booking,
    BookingStatus,
    Conversation,
    Customer,
    Incident,
    Lead,
    Organization,
    utcnow,
)
from services import checkout, incidents, leads, payments, ratelimit, settlement
from tests.chat import BASE_URL
from tests.factories import departure, hold, make_customer
from tests.staff import StaffClient
from tests.test_conversations import day, live_catalog

OWNER, OPS, SALES = "olivia@example.com", "priya@example.com", "sam@example.com"


def admin_catalog() -> dict:
    data = live_catalog()
    data["guides"].append(
        {"name": "Maya Gurung", "phone": "+9779800000003", "tours": ["city-walk", "sunset-tour"]}
    )
    data["tours"][2]["departures"].append(
        {"code": "CITY0", "start": f"{day(0)} 23:30", "capacity": 10, "guide": "+9779800000003"}
    )
    return data


def as_staff(client: FlaskClient, email: str) -> StaffClient:
    staff = StaffClient(client)
    r = staff.login(email)
    assert r.status_code == 302, (r.status_code, r.text[-1500:])
    return staff


def the_org(s: Session) -> Organization:
    return s.scalars(select(Organization)).one()


def conversation_of(s: Session, phone: str) -> Conversation:
    return s.scalars(select(Conversation).join(Customer).where(Customer.phone == phone)).one()


def the_org_by_slug(s: Session, slug: str) -> Organization:
    return s.scalars(select(Organization).where(Organization.slug == slug)).one()


def a_lead(factory: sessionmaker[Session], phone: str = "+12025550101") -> Lead:
    with factory() as s:
        org = the_org(s)
        customer = make_customer(s, org, phone, utcnow(), name="Ada")
        lead = leads.create_lead(s, org, customer, utcnow(), source="whatsapp")
        s.commit()
        return lead


def an_incident(factory: sessionmaker[Session]) -> Incident:
    with factory() as s:
        org = the_org(s)
        dep = departure(s, org, "CITY0")
        booking = hold(s, org, dep, "+12025550131", utcnow(), adults=1)
        booking.status = BookingStatus.CONFIRMED
        incidents.report_issue(s, org, dep.guide, dep, "Guest twisted an ankle", utcnow())
        s.commit()
        return s.scalars(select(Incident)).one()


def a_paid_booking(factory: sessionmaker[Session]) -> Booking:
    with factory() as s:
        org = the_org(s)
        booking = hold(s, org, "EBC100", "+12025550141", utcnow(), adults=1)
        booking.customer.name = "Grace Hopper"
        fake = payments.StripeAccount(None)  # the embedded default's fake checkout
        payment, _ = checkout.start_checkout(s, org, booking, "deposit", utcnow(), BASE_URL, fake)
        settlement.settle(
            s, org, payment, utcnow(), counts=ratelimit.counter(None), stripe=fake, source="fake"
        )
        s.commit()
        return booking
