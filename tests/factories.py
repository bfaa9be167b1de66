"""Test data: a small catalog in the documented file format, and helpers to build on it."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, Customer, Departure, Organization
from services import inventory
from services.customers import get_or_create_customer

BASE_CATALOG: dict[str, Any] = {
    "organization": {
        "slug": "adventure-treks",
        "name": "Adventure Treks",
        "timezone": "Asia/Kathmandu",
        "currency": "USD",
        "numbers": ["+15005550006", "whatsapp:+14155238886"],
        "owner_phone": "+15551230000",
        "ops_phones": ["+15551230002"],
        "settings": {
            "hold_hours": 24,
            "deposit_percent": 30,
            "waitlist_offer_hours": 2,
            "early_bird": {"days_before": 60, "percent": 5},
        },
    },
    "staff": [
        {
            "name": "Sarah Lee",
            "email": "sarah@example.com",
            "phone": "+15551230001",
            "role": "sales",
            "password": "change-me",
        },
        {
            "name": "Ben Carter",
            "email": "ben@example.com",
            "role": "sales",
            "password": "change-me",
        },
        {"name": "Olivia Owner", "email": "owner@example.com", "role": "owner"},
    ],
    "guides": [
        {
            "name": "Rajesh Kumar",
            "phone": "+9779800000001",
            "tours": ["ebc-trek"],
            "trip_fee": "800.00",
        },
    ],
    "tours": [
        {
            "slug": "ebc-trek",
            "name": "Everest Base Camp Trek",
            "aliases": ["EBC", "everest base camp"],
            "duration": "14d",
            "meeting_point": "Kathmandu Airport, domestic terminal",
            "prices": {"adult": "2400.00", "child": "1800.00"},
            "departures": [
                {
                    "code": "EBC0315",
                    "start": "2027-03-15 06:00",
                    "capacity": 12,
                    "guide": "+9779800000001",
                },
                {"code": "EBC0412", "start": "2027-04-12 06:00", "capacity": 12},
            ],
        },
        {
            "slug": "sunset-tour",
            "name": "Sunset Tour",
            "duration": "2h30m",
            "prices": {"adult": "49.00", "child": "29.00"},
            "schedule": [
                {
                    "days": ["sat", "sun"],
                    "time": "17:30",
                    "from": "2027-01-16",
                    "until": "2027-01-31",
                    "capacity": 4,
                },
            ],
        },
        {
            "slug": "city-walk",
            "name": "Old City Walk",
            "duration": "90m",
            "prices": {"adult": "25.00"},
            "departures": [{"code": "CITY0120", "start": "2027-01-20 09:00", "capacity": 3}],
        },
    ],
}


def catalog_data(**overrides: Any) -> dict[str, Any]:
    """A deep copy of the base catalog; top-level keys can be replaced."""
    data = copy.deepcopy(BASE_CATALOG)
    data.update(copy.deepcopy(overrides))
    return data


def departure(session: Session, org: Organization, code: str) -> Departure:
    dep = session.scalar(
        select(Departure).where(Departure.organization_id == org.id, Departure.code == code)
    )
    assert dep is not None, code
    return dep


def new_departure(
    session: Session,
    org: Organization,
    code: str,
    starts_at: datetime,
    capacity: int,
    *,
    like: str = "CITY0120",
) -> Departure:
    """A new two-hour departure of the tour that runs departure `like`, added to the session."""
    dep = Departure(
        organization_id=org.id,
        tour_id=departure(session, org, like).tour_id,
        code=code,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=capacity,
    )
    session.add(dep)
    return dep


def make_customer(
    session: Session, org: Organization, phone: str, now: datetime, name: str | None = None
) -> Customer:
    customer, _ = get_or_create_customer(session, org, phone, now, name=name)
    return customer


def hold(
    session: Session,
    org: Organization,
    where: str | Departure,
    phone: str,
    now: datetime,
    adults: int = 1,
    *,
    source: str = "sms",
    **kwargs: Any,
) -> Booking:
    """Holds `adults` seats on a departure (object or code) for the customer with this phone."""
    dep = where if isinstance(where, Departure) else departure(session, org, where)
    customer = make_customer(session, org, phone, now)
    return inventory.hold_seats(
        session, org, dep, customer, {"adult": adults}, now, source=source, **kwargs
    )
