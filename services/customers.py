"""Customers are found by phone, so someone writing again is recognised."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Customer, Organization
from services.phones import normalize_phone


def find_customer(session: Session, org: Organization, phone: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(
            Customer.organization_id == org.id, Customer.phone == normalize_phone(phone)
        )
    )


def get_or_create_customer(
    session: Session,
    org: Organization,
    phone: str,
    now: datetime,
    *,
    name: str | None = None,
    email: str | None = None,
) -> tuple[Customer, bool]:
    """(customer, created). Two first messages from one number racing each other end with
    one customer: the loser of the unique-constraint race reads the winner's row."""
    e164 = normalize_phone(phone)
    existing = find_customer(session, org, e164)
    if existing is None:
        return add_customer(session, org, e164, now, name=name, email=email)
    fill_in_contact(existing, name=name, email=email)
    return existing, False


def fill_in_contact(
    customer: Customer, *, name: str | None = None, email: str | None = None
) -> None:
    """What a customer tells us about themselves fills gaps; it never overwrites."""
    if name and not customer.name:
        customer.name = name
    if email and not customer.email:
        customer.email = email


def add_customer(
    session: Session,
    org: Organization,
    phone: str,
    now: datetime,
    *,
    name: str | None = None,
    email: str | None = None,
    language: str | None = None,
) -> tuple[Customer, bool]:
    """For a number not seen before: (the new customer, True), or, when another request
    created them a moment ago, (that customer, False; its language is the caller's to
    set)."""
    e164 = normalize_phone(phone)
    try:
        with session.begin_nested():
            created = Customer(
                organization_id=org.id,
                phone=e164,
                name=name,
                email=email,
                language=language,
                created_at=now,
            )
            session.add(created)
            session.flush()
        return created, True
    except IntegrityError:
        existing = find_customer(session, org, e164)
        assert existing is not None
        fill_in_contact(existing, name=name, email=email)
        return existing, False
