"""Leads: references, assignment to the least busy rep with round-robin ties, timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Lead, LeadSource, LeadStatus, Organization, StaffUser
from services import leads, timeline
from services.customers import get_or_create_customer
from services.leads import LeadContext, LeadError, create_lead
from tests.conftest import NOW, import_org
from tests.factories import catalog_data, make_customer


def new_lead(
    session: Session, org: Organization, now: datetime, phone: str = "+12025550180", **kwargs
):
    return create_lead(
        session,
        org,
        make_customer(session, org, phone, now),
        now,
        source=kwargs.pop("source", LeadSource.WHATSAPP),
        **kwargs,
    )


def test_reference_context_and_timeline(session: Session, org: Organization, now: datetime) -> None:
    lead = new_lead(
        session,
        org,
        now,
        context=LeadContext(
            party={"adult": 3}, preferred_month="2027-03", notes="EBC for 3 in March"
        ),
    )
    assert re.fullmatch(r"LD-[2-9A-HJ-NP-Z]{5}", lead.reference)
    assert (lead.status, lead.party, lead.preferred_month) == (
        LeadStatus.NEW,
        {"adult": 3},
        "2027-03",
    )
    events = [e.event_type for e in timeline.events_for(session, org.id, lead.reference)]
    assert events == ["lead.created", "lead.assigned"]


def test_assignment_balances_open_leads_then_round_robins(
    session: Session, org: Organization, now: datetime
) -> None:
    names = []
    for i in range(4):
        lead = new_lead(session, org, now + timedelta(minutes=i), phone=f"+1202555019{i}")
        names.append(lead.assigned_to.name)
    assert names == ["Sarah Lee", "Ben Carter", "Sarah Lee", "Ben Carter"]
    # Ben's leads close: he has fewer open leads and gets the next two.
    ben = session.scalar(select(StaffUser).where(StaffUser.name == "Ben Carter"))
    for lead in session.scalars(select(Lead).where(Lead.assigned_to_id == ben.id)):
        leads.change_status(session, lead, LeadStatus.LOST, now)
    nxt = [
        new_lead(
            session, org, now + timedelta(hours=1, minutes=i), phone=f"+1202555020{i}"
        ).assigned_to.name
        for i in range(2)
    ]
    assert nxt == ["Ben Carter", "Ben Carter"]


def test_without_sales_reps_the_owner_gets_the_lead(session: Session, now: datetime) -> None:
    org = import_org(
        session, staff=[{"name": "Olivia Owner", "email": "o@example.com", "role": "owner"}]
    )
    assert new_lead(session, org, now).assigned_to.name == "Olivia Owner"


def test_with_nobody_to_assign_the_lead_is_unassigned_and_says_so(
    session: Session, now: datetime
) -> None:
    org = import_org(session, staff=[])
    lead = new_lead(session, org, now)
    assert lead.assigned_to_id is None
    assert "lead.unassigned" in [
        e.event_type for e in timeline.events_for(session, org.id, lead.reference)
    ]


def test_failed_booking_lead_carries_reason_and_priority(
    session: Session, org: Organization, now: datetime
) -> None:
    lead = new_lead(
        session,
        org,
        now,
        source=LeadSource.BOOKING_FAILED,
        reason="slot_unavailable",
        priority="high",
    )
    assert (lead.source, lead.reason, lead.priority) == (
        "booking_failed",
        "slot_unavailable",
        "high",
    )
    with pytest.raises(LeadError, match="unknown failure reason"):
        new_lead(session, org, now, phone="+12025550185", reason="bad luck")


def test_status_changes_follow_the_table(
    session: Session, org: Organization, now: datetime
) -> None:
    lead = new_lead(session, org, now)
    leads.change_status(session, lead, LeadStatus.WON, now)
    with pytest.raises(LeadError, match="cannot become"):
        leads.change_status(session, lead, LeadStatus.NEW, now)


def test_returning_customer_is_recognised_by_phone_in_any_format(
    session: Session, org: Organization, now: datetime
) -> None:
    first, created = get_or_create_customer(session, org, "+1 (202) 555-0199", now, name="Ada")
    again, created_again = get_or_create_customer(session, org, "+12025550199", now)
    assert created and not created_again and first.id == again.id and again.name == "Ada"


def test_customers_are_per_organization(session: Session, org: Organization, now: datetime) -> None:
    data = catalog_data()
    data["organization"] = {**data["organization"], "slug": "second-co", "numbers": []}
    data["staff"] = []
    other = import_org(session, **{k: data[k] for k in ("organization", "staff")})
    a, _ = get_or_create_customer(session, org, "+12025550198", now)
    b, _ = get_or_create_customer(session, other, "+12025550198", now)
    assert a.id != b.id


def test_a_reference_collision_retries_with_a_fresh_reference(
    session: Session, org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """References are short, so two can collide; the insert retries without losing the
    caller's transaction (no savepoint: ON CONFLICT on the reference)."""
    from services import references

    customer, _ = get_or_create_customer(session, org, "+12025550197", NOW)
    first = create_lead(session, org, customer, NOW, source="sms")
    issued = iter([first.reference, "LD-FRESH"])
    monkeypatch.setattr(references, "new_reference", lambda prefix: next(issued))
    second = create_lead(session, org, customer, NOW, source="sms")
    session.commit()
    assert second.reference == "LD-FRESH"
    assert session.scalar(select(func.count()).select_from(Lead)) == 2
