"""Pricing in integer minor units: tiers, early bird, deposit, quotes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from models import LeadSource, LeadStatus, Organization
from services import phrases, pricing, timeline
from services.i18n import Voice
from services.leads import LeadContext, create_lead
from services.money import format_money, percent_of, to_minor
from services.pricing import PricingError, price_party
from tests.factories import departure, make_customer


def test_early_bird_then_deposit_on_the_discounted_price(
    session: Session, org: Organization
) -> None:
    # 3 adults x $2,400 = $7,200; booked 61 days ahead, 5% early bird: $6,840; 30% deposit of
    # that: $2,052.
    dep = departure(session, org, "EBC0315")
    price = price_party(org, dep, {"adult": 3}, dep.starts_at - timedelta(days=61))
    assert (price.subtotal_minor, price.discount_minor, price.total_minor) == (
        720000,
        36000,
        684000,
    )
    assert price.deposit_minor == 205200
    assert price.early_bird_until == dep.starts_at - timedelta(days=60)
    assert phrases.price_breakdown(Voice(), price) == (
        "$2,400 × 3 = $7,200, early bird 5% -$360 = $6,840"
    )


def test_no_early_bird_inside_the_window(session: Session, org: Organization) -> None:
    dep = departure(session, org, "EBC0315")
    price = price_party(org, dep, {"adult": 3}, dep.starts_at - timedelta(days=59))
    assert (price.discount_minor, price.total_minor, price.deposit_minor) == (0, 720000, 216000)


def test_party_by_tier_and_the_chat_description(
    session: Session, org: Organization, now: datetime
) -> None:
    dep = departure(session, org, "SUN0116")
    price = price_party(org, dep, {"adult": 2, "child": 2}, now)
    assert [(line.tier, line.quantity, line.amount_minor) for line in price.lines] == [
        ("adult", 2, 9800),
        ("child", 2, 5800),
    ]
    assert phrases.price_breakdown(Voice(), price) == "$49 × 2 + $29 × 2 = $156"
    assert phrases.party(Voice(), {"adult": 2, "child": 1}) == "2 adults + 1 child"
    assert price.seats == 4


@pytest.mark.parametrize(
    ("party", "message"),
    [
        ({}, "how many"),
        ({"adult": 0}, "how many"),
        ({"adult": -1}, "whole number"),
        ({"adult": "two"}, "whole number"),
        ({"senior": 1}, "no senior price"),
        ({"adult": 100}, "at most 99"),
    ],
)
def test_bad_parties_are_refused_clearly(
    session: Session, org: Organization, now: datetime, party, message
) -> None:
    dep = departure(session, org, "CITY0120")
    with pytest.raises(PricingError, match=message):
        price_party(org, dep, party, now)


def test_quote_moves_lead_to_quoted_and_expires_with_the_early_bird(
    session: Session, org: Organization, now: datetime
) -> None:
    dep = departure(session, org, "EBC0412")
    cutoff = dep.starts_at - timedelta(days=60)
    now = cutoff - timedelta(days=3)  # the 7-day validity would outlast the early bird
    customer = make_customer(session, org, "+12025550123", now)
    lead = create_lead(
        session, org, customer, now, source=LeadSource.WHATSAPP, context=LeadContext()
    )
    quote = pricing.create_quote(session, org, dep, {"adult": 2}, now, lead=lead)
    assert quote.reference.startswith("QT-")
    assert quote.discount_minor > 0
    assert quote.valid_until == cutoff
    assert lead.status == LeadStatus.QUOTED
    events = [e.event_type for e in timeline.events_for(session, org.id, lead.reference)]
    assert "lead.quoted" in events


def test_money_parsing_and_display() -> None:
    assert to_minor("2400.00", "USD") == 240000
    assert to_minor("1500", "JPY") == 1500
    assert to_minor("1.234", "KWD") == 1234
    assert format_money(15600, "USD") == "$156"
    assert format_money(4950, "USD") == "$49.50"
    assert format_money(1500, "JPY") == "¥1,500"


@given(amount=st.integers(min_value=0, max_value=10**12), percent=st.decimals(0, 100, places=2))
def test_percentages_round_half_up_and_stay_within_bounds(amount: int, percent) -> None:
    part = percent_of(amount, percent)
    assert 0 <= part <= amount
    assert abs(part * 100 - amount * percent) <= 50  # at most half a minor unit off
