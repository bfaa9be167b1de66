"""The demo organization `make run` loads: the catalog in demo/catalog.yml.j2, with dates
relative to today, plus a few customers so the full departure, the waitlist, a hold
and some leads can be seen straight away. Loading twice changes nothing the second time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import jinja2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import PROJECT_ROOT
from models import Booking, Departure, LeadSource, Tour
from services import bookings, catalog, inventory, waitlist
from services.catalog import ImportSummary
from services.customers import get_or_create_customer
from services.leads import LeadContext, create_lead

DEMO_DIR = PROJECT_ROOT / "demo"
DEMO_TIMEZONE = "Asia/Kathmandu"


def render_demo_catalog(today: date) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(DEMO_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    return env.get_template("catalog.yml.j2").render(
        day=lambda n: (today + timedelta(days=n)).isoformat(),
        code=lambda n: (today + timedelta(days=n)).strftime("%m%d"),
    )


def load_demo(session: Session, now: datetime) -> ImportSummary:
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(DEMO_TIMEZONE)).date()
    summary = catalog.import_catalog(session, catalog.load_yaml(render_demo_catalog(today)), now)
    _seed_customers(session, summary, now)
    return summary


def _seed_customers(session: Session, summary: ImportSummary, now: datetime) -> None:
    org = summary.organization
    food = session.scalar(
        select(Tour).where(Tour.organization_id == org.id, Tour.slug == "food-tour")
    )
    assert food is not None
    full = session.scalar(
        select(Departure)
        .where(Departure.tour_id == food.id, Departure.capacity == 6)
        .order_by(Departure.starts_at)
    )
    if full is None or session.scalar(
        select(func.count(Booking.id)).where(Booking.departure_id == full.id)
    ):
        return  # already seeded

    people: list[tuple[str, str, dict[str, Any]]] = [
        ("+15551110001", "Emma Wilson", {"adult": 2}),
        ("+15551110002", "Liam Chen", {"adult": 2, "child": 1}),
        ("+15551110003", "Sofia Rossi", {"adult": 1}),
    ]
    for phone, name, party in people:
        customer, _ = get_or_create_customer(session, org, phone, now, name=name)
        held = inventory.hold_seats(session, org, full, customer, party, now, source="admin")
        bookings.confirm_booking(session, org, held, now, reason="demo data: paid in full")
        held.paid_minor = held.total_minor

    waiting, _ = get_or_create_customer(session, org, "+15551110004", now, name="Noah Patel")
    waitlist.join_waitlist(session, org, full, waiting, {"adult": 2}, now, source="whatsapp")

    ebc = session.scalars(
        select(Tour).where(Tour.organization_id == org.id, Tour.slug == "ebc-trek")
    ).one()
    asking, _ = get_or_create_customer(session, org, "+15551110005", now, name="Ava Johnson")
    create_lead(
        session,
        org,
        asking,
        now,
        source=LeadSource.WHATSAPP,
        context=LeadContext(
            tour=ebc,
            party={"adult": 3},
            preferred_month=f"{now:%Y-%m}",
            notes="Interested in EBC for 3 people; asked about fitness level.",
        ),
    )
    first_ebc = session.scalars(
        select(Departure).where(Departure.tour_id == ebc.id).order_by(Departure.starts_at)
    ).first()
    assert first_ebc is not None, "the demo catalog has EBC departures"
    holder, _ = get_or_create_customer(session, org, "+15551110006", now, name="Lucas Martin")
    lead = create_lead(
        session,
        org,
        holder,
        now,
        source=LeadSource.SMS,
        context=LeadContext(tour=ebc, party={"adult": 2}),
    )
    inventory.hold_seats(
        session, org, first_ebc, holder, {"adult": 2}, now, source="sms", lead=lead
    )
