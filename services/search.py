"""One search box for staff, for the customer on the phone who must be found at once: a
customer or booking by name, phone in any written form, or reference."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from models import Booking, Customer, Departure, Lead, Organization
from services.desk import home_region
from services.phones import InvalidPhone, normalize_phone

REFERENCE = re.compile(r"^(BK|LD|QT)-?[0-9A-Z]{5}$")
# A reference read out without its prefix ("7K3Q9"), in the references' alphabet; a name
# of five letters ("grace") is looked for as a name when no reference has it.
BARE_REFERENCE = re.compile(r"^[2-9A-HJKMNP-Z]{5}$")
LIMIT = 25
# Names a typo away ("Margret Wilsn"): candidates sharing a three-letter piece with the
# query, ranked by rapidfuzz; at most this many are read to rank.
FUZZY_CANDIDATES = 400
FUZZY_CUTOFF = 78


@dataclass
class SearchResults:
    query: str
    customers: list[Customer] = field(default_factory=list)
    # The customers are close matches of a name with a typo, not the name itself.
    fuzzy: bool = False
    bookings: list[Booking] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.customers or self.bookings or self.leads)


def _phone_digits(query: str, org: Organization) -> list[str]:
    """The digit strings to look for when the query reads like a phone number: its E.164
    form (a national number read in the organization's country), or for a fragment the
    digits with and without the trunk zero that E.164 drops."""
    if not re.fullmatch(r"[\d\s()+.\-/]{4,40}", query):
        return []
    try:
        return [normalize_phone(query).lstrip("+")]
    except InvalidPhone:
        pass
    try:
        return [normalize_phone(query, home_region(org)).lstrip("+")]
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
    refs = []
    if REFERENCE.match(upper):
        refs = [upper if "-" in upper else f"{upper[:2]}-{upper[2:]}"]
    elif BARE_REFERENCE.match(upper):
        refs = [f"{prefix}-{upper}" for prefix in ("BK", "LD", "QT")]
    if refs:
        results.bookings = list(session.scalars(_bookings(org).where(Booking.reference.in_(refs))))
        results.leads = list(
            session.scalars(
                select(Lead)
                .options(joinedload(Lead.customer))
                .where(Lead.organization_id == org.id, Lead.reference.in_(refs))
            )
        )
        if results.bookings or results.leads or REFERENCE.match(upper):
            return results

    digits = _phone_digits(query, org)
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
    if not results.customers and not digits:
        results.customers = _close_names(session, org, query)
        results.fuzzy = bool(results.customers)
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


def _close_names(session: Session, org: Organization, query: str) -> list[Customer]:
    """Customers whose name is close to the query, best first: candidates share a
    three-letter piece with it (cheap in SQL), then rapidfuzz ranks them."""
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) >= 3]
    pieces = sorted({w[i : i + 3] for w in words for i in range(len(w) - 2)})[:24]
    if not pieces:
        return []
    candidates = list(
        session.execute(
            select(Customer.id, Customer.name)
            .where(
                Customer.organization_id == org.id,
                Customer.name.is_not(None),
                or_(
                    *(
                        func.lower(Customer.name).like(f"%{_escape_like(p)}%", escape="\\")
                        for p in pieces
                    )
                ),
            )
            .limit(FUZZY_CANDIDATES)
        )
    )
    ranked = process.extract(
        query.lower(),
        {cid: (name or "").lower() for cid, name in candidates},
        scorer=fuzz.WRatio,
        score_cutoff=FUZZY_CUTOFF,
        limit=LIMIT,
    )
    ids = [cid for _, _, cid in ranked]
    found = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    return [found[cid] for cid in ids if cid in found]


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
