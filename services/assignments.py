"""Guide assignments: offering a departure to a guide, their ACCEPT or DECLINE, and ops
releasing or replacing a guide (one who falls ill on the morning of a trip). Everyone
concerned is messaged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    LIVE_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    Departure,
    DepartureStatus,
    Guide,
    GuideAssignment,
    Organization,
)
from services import assignment_states, notify, timeline
from services.crew import OperationsError, group_size, open_assignment, tell_ops
from services.money import format_money
from services.notify import local_time


def offer_assignment(
    session: Session,
    org: Organization,
    departure: Departure,
    guide: Guide,
    now: datetime,
    *,
    role: str = "lead",
    fee_minor: int | None = None,
    actor: str = "ops",
) -> GuideAssignment:
    if departure.tour not in guide.tours:
        raise OperationsError(f"{guide.name} is not qualified for {departure.tour.name}.")
    if busy_elsewhere(session, guide, departure):
        raise OperationsError(f"{guide.name} is on another departure at that time.")
    pending = session.scalar(
        select(GuideAssignment).where(
            GuideAssignment.departure_id == departure.id,
            GuideAssignment.guide_id == guide.id,
            GuideAssignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
        )
    )
    if pending is not None:
        return pending  # offering twice changes nothing
    fee = guide.trip_fee_minor if fee_minor is None else fee_minor
    assignment = GuideAssignment(
        organization_id=org.id,
        departure_id=departure.id,
        guide_id=guide.id,
        role=role,
        fee_minor=fee,
        offered_at=now,
    )
    session.add(assignment)
    session.flush()
    end = org.local(departure.ends_at)
    notify.to_staff(
        session,
        org,
        guide.phone,
        (
            f"📋 Trip assignment\n{departure.tour.name} ({departure.code})\n"
            f"{local_time(org, departure.starts_at)} to {end.day} {end:%b}\n"
            f"Meeting point: {departure.tour.meeting_point or 'see ops'}\n"
            f"Group: {group_size(session, departure)} guests\n"
            f"Role: {role.title()} guide\n"
            f"Fee: {format_money(fee, org.currency)}\n"
            f"Reply ACCEPT {departure.code} or DECLINE {departure.code}"
        ),
        now,
    )
    timeline.record(
        session,
        departure,
        "guide.offered",
        actor=actor,
        source="admin",
        at=now,
        content={"guide": guide.name, "role": role, "fee_minor": fee},
    )
    return assignment


def busy_elsewhere(session: Session, guide: Guide, departure: Departure) -> bool:
    clash = session.scalar(
        select(Departure.id)
        .where(
            Departure.guide_id == guide.id,
            Departure.id != departure.id,
            Departure.status.in_((DepartureStatus.OPEN, DepartureStatus.STARTED)),
            Departure.starts_at < departure.ends_at,
            Departure.ends_at > departure.starts_at,
        )
        .limit(1)
    )
    return clash is not None


def replacement_guides(
    session: Session, departure: Departure, exclude: Guide | None = None
) -> list[Guide]:
    """Active guides qualified for the tour and free for the whole departure."""
    return [
        g
        for g in departure.tour.guides
        if g.active and g is not exclude and not busy_elsewhere(session, g, departure)
    ]


def accept_assignment(
    session: Session, org: Organization, guide: Guide, departure: Departure, now: datetime
) -> str:
    assignment = open_assignment(session, guide, departure)
    if assignment is None or assignment.status not in LIVE_ASSIGNMENT_STATUSES:
        raise OperationsError(f"There is no open offer for {departure.code}.")
    if assignment.status == AssignmentStatus.ACCEPTED:
        when = local_time(org, departure.starts_at)
        return f"You already accepted {departure.code}. See you at {when}."
    departure.guide_id = guide.id
    assignment_states.transition(
        session,
        assignment,
        AssignmentStatus.ACCEPTED,
        now,
        event="guide.accepted",
        actor=f"guide:{guide.id}",
        source="guide",
        content={"guide": guide.name},
    )
    tell_ops(
        session,
        org,
        f"✓ {guide.name} accepted {departure.code} ({departure.tour.name}, "
        f"{local_time(org, departure.starts_at)}).",
        now,
    )
    return (
        f"✓ Assignment confirmed: {departure.tour.name} ({departure.code})\n"
        f"Start: {local_time(org, departure.starts_at)}\n"
        f"Meeting point: {departure.tour.meeting_point or 'see ops'}\n"
        f"Send CHECKIN {departure.code} when the trip starts."
    )


def decline_assignment(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    reason: str,
    now: datetime,
) -> str:
    assignment = open_assignment(session, guide, departure)
    if assignment is None or assignment.status not in LIVE_ASSIGNMENT_STATUSES:
        if assignment is not None and assignment.status == AssignmentStatus.DECLINED:
            return f"You already declined {departure.code}."
        raise OperationsError(f"There is no open offer for {departure.code}.")
    if departure.guide_id == guide.id:
        departure.guide_id = None
    options = replacement_guides(session, departure, exclude=guide)
    names = ", ".join(f"{g.name} {g.phone}" for g in options) or "nobody qualified is free"
    assignment_states.transition(
        session,
        assignment,
        AssignmentStatus.DECLINED,
        now,
        event="guide.declined",
        actor=f"guide:{guide.id}",
        source="guide",
        reason=reason,
        content={"guide": guide.name, "reason": reason, "replacements": [g.name for g in options]},
    )
    tell_ops(
        session,
        org,
        f"⚠️ {guide.name} declined {departure.code} ({local_time(org, departure.starts_at)})"
        f"{': ' + reason if reason else ''}. Qualified and free: {names}.",
        now,
    )
    return f"Understood, you're released from {departure.code}. Ops have been told."


def release_guide(
    session: Session,
    org: Organization,
    departure: Departure,
    now: datetime,
    *,
    reason: str = "",
    actor: str = "ops",
) -> Guide | None:
    """Ops takes the departure away from its guide (offered or accepted); the guide is told."""
    guide = departure.guide
    assignments = list(
        session.scalars(
            select(GuideAssignment).where(
                GuideAssignment.departure_id == departure.id,
                GuideAssignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
            )
        )
    )
    for assignment in assignments:
        assignment_states.transition(
            session,
            assignment,
            AssignmentStatus.CANCELLED,
            now,
            event="guide.released",
            actor=actor,
            source="admin",
            reason=reason,
            content={"guide": assignment.guide.name, "reason": reason},
        )
        guide = guide or assignment.guide
    departure.guide_id = None
    if guide is not None:
        notify.to_staff(
            session,
            org,
            guide.phone,
            f"Ops have released you from {departure.code} ({departure.tour.name}, "
            f"{local_time(org, departure.starts_at)}){': ' + reason if reason else ''}.",
            now,
        )
    if guide is not None and not assignments:  # the guide was set without an offer (catalog)
        timeline.record(
            session,
            departure,
            "guide.released",
            actor=actor,
            source="admin",
            at=now,
            content={"guide": guide.name, "reason": reason},
        )
    return guide


def replace_guide(
    session: Session,
    org: Organization,
    departure: Departure,
    new_guide: Guide,
    now: datetime,
    *,
    reason: str = "",
    actor: str = "ops",
) -> GuideAssignment:
    """A guide who cannot go: release the current guide (told) and offer the trip to another
    (who gets the offer to ACCEPT)."""
    old = release_guide(session, org, departure, now, reason=reason, actor=actor)
    if old is not None and old.id == new_guide.id:
        raise OperationsError(f"{new_guide.name} is already the guide of {departure.code}.")
    return offer_assignment(session, org, departure, new_guide, now, actor=actor)
