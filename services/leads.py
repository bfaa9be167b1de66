"""Leads: creation with a reference, assignment to a sales rep, status changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from models import (
    EXPECTED_STATUSES,
    OPEN_LEAD_STATUSES,
    Booking,
    Customer,
    Departure,
    Lead,
    LeadSource,
    LeadStatus,
    Organization,
    Role,
    StaffUser,
    Tour,
)
from services import guest_needs, notify, ratelimit, timeline
from services.errors import ServiceError
from services.lifecycle import Lifecycle, TransitionRefused
from services.references import insert_with_reference

ALLOWED: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.NEW: frozenset(
        {LeadStatus.CONTACTED, LeadStatus.QUOTED, LeadStatus.WON, LeadStatus.LOST}
    ),
    LeadStatus.CONTACTED: frozenset({LeadStatus.QUOTED, LeadStatus.WON, LeadStatus.LOST}),
    LeadStatus.QUOTED: frozenset({LeadStatus.CONTACTED, LeadStatus.WON, LeadStatus.LOST}),
    LeadStatus.WON: frozenset(),
    # A lost lead that writes again is worth another try.
    LeadStatus.LOST: frozenset({LeadStatus.NEW, LeadStatus.CONTACTED}),
}

# Where a lead usually goes from each status: the admin's status picker offers it first.
NEXT_STEP: dict[LeadStatus, LeadStatus] = {
    LeadStatus.NEW: LeadStatus.CONTACTED,
    LeadStatus.CONTACTED: LeadStatus.QUOTED,
    LeadStatus.QUOTED: LeadStatus.WON,
    LeadStatus.LOST: LeadStatus.CONTACTED,
}


def moves_from(status: LeadStatus) -> list[LeadStatus]:
    """The statuses a lead can move to, in the pipeline's order."""
    return [s for s in LeadStatus if s in ALLOWED[status]]


FAILURE_REASONS = ("slot_unavailable", "date_unavailable", "booking_failed", "booking_error")


class LeadError(ServiceError):
    pass


class LeadTransitionError(LeadError, TransitionRefused):
    pass


LIFECYCLE = Lifecycle(LeadStatus, ALLOWED, LeadTransitionError)


@dataclass
class LeadContext:
    """What the customer told us so far."""

    tour: Tour | None = None
    departure: Departure | None = None
    party: dict[str, int] = field(default_factory=dict)
    preferred_date: date | None = None
    preferred_month: str | None = None
    notes: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def create_lead(
    session: Session,
    org: Organization,
    customer: Customer,
    now: datetime,
    *,
    source: str,
    context: LeadContext | None = None,
    actor: str = "system",
    priority: str = "normal",
    reason: str | None = None,
    assign: bool = True,
    assign_to: StaffUser | None = None,
) -> Lead:
    """assign_to: the teammate already talking with the customer gets the lead (an active
    member of the organization), instead of the next rep in turn."""
    if reason is not None and reason not in FAILURE_REASONS:
        raise LeadError(f"unknown failure reason {reason!r}")
    ctx = context or LeadContext()
    # Chosen before the insert, so the lead is stored with its rep in one statement.
    keep = (
        assign_to
        if assign_to is not None and assign_to.active and assign_to.organization_id == org.id
        else None
    )
    choice: tuple[StaffUser, int] | None = None
    if assign:
        choice = (keep, 0) if keep is not None else choose_assignee(session, org)
    lead = insert_with_reference(
        session,
        "LD",
        lambda ref: Lead(
            organization_id=org.id,
            reference=ref,
            customer_id=customer.id,
            source=source,
            status=LeadStatus.NEW,
            priority=priority,
            reason=reason,
            tour_id=ctx.tour.id if ctx.tour else None,
            departure_id=ctx.departure.id if ctx.departure else None,
            party=dict(ctx.party),
            preferred_date=ctx.preferred_date,
            preferred_month=ctx.preferred_month,
            notes=ctx.notes,
            context=dict(ctx.extra),
            assigned_to_id=choice[0].id if choice else None,
            created_at=now,
            updated_at=now,
        ),
    )
    timeline.record(
        session,
        lead,
        "lead.created",
        actor=actor,
        source=source,
        at=now,
        content={
            "customer": customer.phone,
            "source": source,
            "reason": reason,
            "priority": priority,
            "notes": ctx.notes,
        },
    )
    if assign:
        _record_assignment(session, lead, choice, now)
    return lead


def choose_assignee(session: Session, org: Organization) -> tuple[StaffUser, int] | None:
    """(rep, their open leads): the active sales rep with the fewest open leads; on a tie,
    the one whose latest open lead is oldest (round-robin). With no sales rep, an owner;
    with neither, None.

    Everything is read from the open leads themselves (one query, bounded by the open
    leads, not by every lead a rep ever had): no counter on the staff row is updated, so
    concurrent leads never queue on (or deadlock over) a rep's row. Two leads racing may
    land on one rep; the fewest-open-leads rule evens that out on the next one."""
    open_lead = and_(Lead.assigned_to_id == StaffUser.id, Lead.status.in_(OPEN_LEAD_STATUSES))
    rows = session.execute(
        select(StaffUser, func.count(Lead.id), func.max(Lead.created_at))
        .outerjoin(Lead, open_lead)
        .where(
            StaffUser.organization_id == org.id,
            StaffUser.role.in_((Role.SALES, Role.OWNER)),
            StaffUser.active.is_(True),
        )
        .group_by(StaffUser.id)
    ).all()
    never = datetime.min.replace(tzinfo=UTC)
    for role in (Role.SALES, Role.OWNER):
        loads = [
            (int(open_count), latest or never, rep.id, rep)
            for rep, open_count, latest in rows
            if rep.role == role
        ]
        if loads:
            open_count, _, _, rep = min(loads, key=lambda load: load[:3])
            return rep, open_count
    return None


def _record_assignment(
    session: Session, lead: Lead, choice: tuple[StaffUser, int] | None, now: datetime
) -> None:
    if choice is None:
        timeline.record(
            session,
            lead,
            "lead.unassigned",
            at=now,
            content={"why": "no active sales rep or owner"},
        )
        return
    rep, open_leads = choice
    # The object, not only the id: later steps (the rep's notification) read the rep.
    lead.assigned_to = rep
    timeline.record(
        session,
        lead,
        "lead.assigned",
        at=now,
        content={"staff_id": rep.id, "name": rep.name, "open_leads": open_leads},
    )


def change_status(
    session: Session,
    lead: Lead,
    to: LeadStatus,
    now: datetime,
    *,
    actor: str = "system",
    source: str = "system",
    note: str | None = None,
) -> None:
    if to == lead.status:
        return
    current = LIFECYCLE.move(lead, f"Lead {lead.reference}", to)
    lead.updated_at = now
    timeline.record(
        session,
        lead,
        "lead.status_changed",
        actor=actor,
        source=source,
        at=now,
        content={"from": current.value, "to": to.value, "note": note},
    )


# Lead notes are for a person to read; a chatty customer must not grow them without end.
MAX_NOTES = 4000


def add_details(
    session: Session, lead: Lead, text: str, now: datetime, *, actor: str, source: str
) -> None:
    """Something the customer told us about their enquiry (dates, party, diet, pickup),
    kept on the lead's notes and timeline for the rep, in their own words."""
    text = " ".join(text.split())[:500]
    if not text:
        return
    notes = f"{lead.notes}\n{text}" if lead.notes else text
    lead.notes = notes[-MAX_NOTES:]
    lead.updated_at = now
    timeline.record(
        session,
        lead,
        "lead.details_added",
        actor=actor,
        source=source,
        at=now,
        content={"text": text},
    )
    # A diet, access or pickup need told once seats are held reaches the manifest too.
    told = guest_needs.from_notes(text)
    if told.empty:
        return
    for booking in session.scalars(
        select(Booking).where(Booking.lead_id == lead.id, Booking.status.in_(EXPECTED_STATUSES))
    ):
        changed = guest_needs.apply(booking, guest_needs.added(guest_needs.of(booking), told))
        if changed:
            timeline.record(
                session,
                booking,
                "booking.needs_updated",
                actor=actor,
                source=source,
                at=now,
                content=changed,
            )


def capture_failed_booking(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    reason: str,
    notes: str,
    counts: ratelimit.Counter,
) -> Lead:
    """A booking attempt that failed becomes a high-priority lead with its full context
    (what was wanted, the reason), and sales are told: a customer who wanted to book and
    could not is the warmest lead there is."""
    lead = create_lead(
        session,
        org,
        booking.customer,
        now,
        source=LeadSource.BOOKING_FAILED,
        reason=reason,
        priority="high",
        context=LeadContext(
            tour=booking.departure.tour,
            departure=booking.departure,
            party=dict(booking.party),
            notes=notes,
        ),
    )
    notify.lead_created(session, org, lead, notes, now, counts)
    return lead
