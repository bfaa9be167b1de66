"""Prices a party on a departure: per-tier price times count, the early-bird discount,
the deposit. All integer minor units; rounding is half up, once, on the discount and
on the deposit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models import Customer, Departure, Lead, LeadStatus, Organization, Quote
from services import leads, timeline
from services.errors import ServiceError
from services.i18n import N_
from services.money import percent_of
from services.references import insert_with_reference

MAX_PARTY = 99


class PricingError(ServiceError):
    pass


@dataclass(frozen=True)
class PriceLine:
    tier: str
    label: str
    quantity: int
    unit_minor: int
    amount_minor: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "label": self.label,
            "quantity": self.quantity,
            "unit_minor": self.unit_minor,
            "amount_minor": self.amount_minor,
        }


@dataclass(frozen=True)
class PriceBreakdown:
    currency: str
    lines: tuple[PriceLine, ...]
    subtotal_minor: int
    discount_minor: int
    discount_label: str | None
    total_minor: int
    deposit_minor: int
    early_bird_until: datetime | None
    # The discount's percentage, for the customer's words (services.phrases.price_breakdown);
    # discount_label is the English one stored on a quote for staff.
    discount_percent: Decimal | None = None

    @property
    def seats(self) -> int:
        return sum(line.quantity for line in self.lines)


def party_size(party: Mapping[str, int]) -> int:
    return sum(party.values())


# Price tiers of people who never come without an adult. The catalog has no setting for a
# tour that takes children alone, so no tour does (staff are refused; see services.desk).
NOT_ALONE_TIERS = frozenset({"child", "infant"})


def children_alone(party: Mapping[str, int]) -> bool:
    """0 adults + 3 children: every person counted is of a tier that needs an adult."""
    counted = {tier for tier, n in party.items() if n}
    return bool(counted) and counted <= NOT_ALONE_TIERS


def children_alone_refusal(departure: Departure) -> str:
    """What staff are told (English, for staff) when a party has no adult."""
    return f"{departure.tour.name} takes no children alone: add at least one adult to the party."


def validate_party(departure: Departure, party: Mapping[str, Any]) -> dict[str, int]:
    """Checks the party against the tour's tiers; returns it with zero counts dropped."""
    if not isinstance(party, Mapping) or not party:
        raise PricingError(N_("say how many people are coming"))
    tour = departure.tour
    clean: dict[str, int] = {}
    for tier_code, count in party.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise PricingError(N_("the number of {tier} must be a whole number"), tier=tier_code)
        if count == 0:
            continue
        if tour.tier(tier_code) is None:
            offered = ", ".join(t.code for t in tour.price_tiers)
            raise PricingError(
                N_("{tour} has no {tier} price (it has: {offered})"),
                tour=tour.name,
                tier=tier_code,
                offered=offered,
            )
        clean[tier_code] = count
    total = party_size(clean)
    if total < 1:
        raise PricingError(N_("say how many people are coming"))
    if total > MAX_PARTY:
        raise PricingError(N_("a single booking can be for at most {most} people"), most=MAX_PARTY)
    return clean


def price_party(
    org: Organization, departure: Departure, party: Mapping[str, Any], now: datetime
) -> PriceBreakdown:
    clean = validate_party(departure, party)
    settings = org.settings
    tour = departure.tour
    lines = []
    for tier in tour.price_tiers:  # tier order, so replies list adults before children
        quantity = clean.get(tier.code, 0)
        if quantity:
            lines.append(
                PriceLine(
                    tier.code, tier.label, quantity, tier.price_minor, tier.price_minor * quantity
                )
            )
    subtotal = sum(line.amount_minor for line in lines)

    discount = 0
    label = None
    percent = None
    early_bird_until = None
    if settings.early_bird and settings.early_bird.percent > 0:
        cutoff = departure.starts_at - timedelta(days=settings.early_bird.days_before)
        if now <= cutoff:
            discount = percent_of(subtotal, settings.early_bird.percent)
            percent = settings.early_bird.percent
            label = f"early bird {percent.normalize():f}%"
            early_bird_until = cutoff
    total = subtotal - discount
    return PriceBreakdown(
        currency=org.currency,
        lines=tuple(lines),
        subtotal_minor=subtotal,
        discount_minor=discount,
        discount_label=label,
        total_minor=total,
        deposit_minor=percent_of(total, settings.deposit_percent),
        early_bird_until=early_bird_until,
        discount_percent=percent,
    )


def create_quote(
    session: Session,
    org: Organization,
    departure: Departure,
    party: Mapping[str, Any],
    now: datetime,
    *,
    lead: Lead | None = None,
    customer: Customer | None = None,
) -> Quote:
    """Stores a priced quote. It is valid for quote_valid_days, but never past the
    early-bird cutoff it relies on, nor past the departure."""
    price = price_party(org, departure, party, now)
    valid_until = min(
        now + timedelta(days=org.settings.quote_valid_days),
        price.early_bird_until or departure.starts_at,
        departure.starts_at,
    )
    quote = insert_with_reference(
        session,
        "QT",
        lambda ref: Quote(
            organization_id=org.id,
            reference=ref,
            lead_id=lead.id if lead else None,
            customer_id=(customer.id if customer else (lead.customer_id if lead else None)),
            departure_id=departure.id,
            party=validate_party(departure, party),
            lines=[line.as_dict() for line in price.lines],
            currency=price.currency,
            subtotal_minor=price.subtotal_minor,
            discount_minor=price.discount_minor,
            discount_label=price.discount_label,
            total_minor=price.total_minor,
            deposit_minor=price.deposit_minor,
            valid_until=valid_until,
        ),
    )
    if lead is not None:
        timeline.record(
            session,
            lead,
            "lead.quoted",
            at=now,
            content={
                "quote": quote.reference,
                "departure": departure.code,
                "total_minor": quote.total_minor,
                "currency": quote.currency,
            },
        )
        if lead.status in (LeadStatus.NEW, LeadStatus.CONTACTED):
            leads.change_status(session, lead, LeadStatus.QUOTED, now, note=quote.reference)
    return quote
