"""One search box for staff, for the customer on the phone who must be found at once: a
customer or booking by name, phone in any written form, or reference."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from models import Booking, Customer, Departure, Lead, Organization
from services.phones import InvalidPhone, normalize_phone

REFERENCE = re.compile(r"^(BK|LD|QT)-?[0-9A-Z]{5}$")
LIMIT = 25


@dataclass
class SearchResults:
    query: str
    customers: list[Customer] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.customers or self.bookings or self.leads)


def _phone_digits(query: str) -> list[str]:
    """The digit strings to look for when the query reads like a phone number: its E.164
    form, or for a fragment or national form ("0980 000 0001") the digits with and without
    the trunk zero that E.164 drops."""
    if not re.fullmatch(r"[\d\s()+.\-/]{4,40}", query):
        return []
    try:
        return [normalize_phone(query).lstrip("+")]
    except InvalidPhone:
        digits = re.sub(r"\D", "", query)
        if len(digits) < 4:
            return []
        return sorted({digits, digits.lstrip("0")} - {""}, key=len, reverse=True)


def search(session: Session, org: Organization, query: str) -> SearchResults:
    query = (query or "").replace("\x00", "").strip()[:100]
    results = SearchResults(query)
    if len(query) < 2:
        return results
    upper = query.upper().replace(" ", "")
    if REFERENCE.match(upper):
        ref = upper if "-" in upper else f"{upper[:2]}-{upper[2:]}"
        results.bookings = list(session.scalars(_bookings(org).where(Booking.reference == ref)))
        results.leads = list(
            session.scalars(
                select(Lead)
                .options(joinedload(Lead.customer))
                .where(Lead.organization_id == org.id, Lead.reference == ref)
            )
        )
        return results

    digits = _phone_digits(query)
    if digits:
        matches = or_(*(Customer.phone.like(f"%{d}%") for d in digits))
    else:
        pattern = f"%{_escape_like(query.lower())}%"
        matches = or_(
            func.lower(Customer.name).like(pattern, escape="\\"),
            func.lower(Customer.email).like(pattern, escape="\\"),
        )
    results.customers = list(
        session.scalars(
            select(Customer)
            .where(Customer.organization_id == org.id, matches)
            .order_by(Customer.name, Customer.id)
            .limit(LIMIT)
        )
    )
    if results.customers:
        results.bookings = list(
            session.scalars(
                _bookings(org)
                .where(Booking.customer_id.in_([c.id for c in results.customers]))
                .order_by(Booking.created_at.desc())
                .limit(LIMIT)
            )
        )
    return results


def _bookings(org: Organization):  # type: ignore[no-untyped-def]
    return (
        select(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .options(
            joinedload(Booking.customer),
            joinedload(Booking.departure).joinedload(Departure.tour),
        )
        .where(Booking.organization_id == org.id)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
