"""Running a departure: guide assignment offers, check-in, incidents, check-out with payroll,
and the manifest. Each function checks who may do what and is safe to repeat: a guide on a
trail with poor signal will send the same command twice."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Guide,
    GuideAssignment,
    Incident,
    IncidentUpdate,
    Organization,
    PayrollEntry,
)
from services import notify, timeline
from services.booking_states import transition
from services.errors import ServiceError
from services.money import format_money
from services.notify import local_time
from services.outbox import SMS_LIMIT

EARLIEST_CHECKIN = timedelta(hours=12)

# Severity from the guide's words; first match wins. Edit here to change the rules.
SEVERITY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "high",
        (
            "medical",
            "injur",
            "hurt",
            "bleed",
            "unconscious",
            "evacuat",
            "helicopter",
            "accident",
            "missing",
            "lost person",
            "altitude sickness",
            "ams",
            "hospital",
            "ambulance",
            "broken",
            "fracture",
            "emergency",
            "police",
            "heart",
            "breathing",
        ),
    ),
    (
        "medium",
        (
            "delay",
            "late",
            "breakdown",
            "broke down",
            "weather",
            "storm",
            "rain",
            "snow",
            "landslide",
            "road closed",
            "cancelled flight",
            "sick",
            "ill",
            "vomit",
        ),
    ),
)
RESOLVED = re.compile(
    r"\b(resolved|all good|back on track|sorted|fixed|solved|all clear|ok now|"
    r"everyone(?:'s| is) (?:fine|safe|ok)|under control)\b",
    re.IGNORECASE,
)
ACTIVE_BOOKINGS = (
    BookingStatus.CONFIRMED,
    BookingStatus.HELD,
    BookingStatus.PENDING_APPROVAL,
    BookingStatus.PAYMENT_PENDING,
)


class OperationsError(ServiceError):
    pass


def severity_of(text: str) -> str:
    lowered = text.lower()
    for severity, words in SEVERITY_RULES:
        if any(re.search(rf"\b{re.escape(w)}", lowered) for w in words):
            return severity
    return "low"


def support_line(org: Organization) -> str:
    return org.settings.support_phone or org.owner_phone or "your operations contact"


def _ops_phones(org: Organization) -> list[str]:
    return list(org.ops_phones or []) or ([org.owner_phone] if org.owner_phone else [])


def tell_ops(
    session: Session, org: Organization, text: str, now: datetime, *, owner_too: bool = False
) -> None:
    phones = _ops_phones(org)
    if owner_too and org.owner_phone and org.owner_phone not in phones:
        phones.append(org.owner_phone)
    for phone in phones:
        notify.to_staff(session, org, phone, text, now)


def confirmed_bookings(session: Session, departure: Departure) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status == BookingStatus.CONFIRMED)
            .order_by(Booking.id)
        )
    )


def group_size(session: Session, departure: Departure) -> int:
    return sum(b.seats for b in confirmed_bookings(session, departure))


# --- who and which departure --------------------------------------------------------------


def guide_by_phone(session: Session, org: Organization, phone: str) -> Guide | None:
    return session.scalar(
        select(Guide).where(
            Guide.organization_id == org.id, Guide.phone == phone, Guide.active.is_(True)
        )
    )


def departure_by_code(session: Session, org: Organization, code: str) -> Departure | None:
    return session.scalar(
        select(Departure).where(
            Departure.organization_id == org.id, Departure.code == code.strip().upper()
        )
    )


def current_or_next(session: Session, guide: Guide, now: datetime) -> Departure | None:
    """The departure a guide means without a code: the one under way, or else the next one.
    None when that is ambiguous (two under way) or there is none."""
    mine = select(Departure).where(Departure.guide_id == guide.id)
    started = list(session.scalars(mine.where(Departure.status == DepartureStatus.STARTED)))
    if len(started) == 1:
        return started[0]
    if started:
        return None
    return session.scalar(
        mine.where(Departure.status == DepartureStatus.OPEN, Departure.ends_at > now).order_by(
            Departure.starts_at
        )
    )


def todays_departure(
    session: Session, org: Organization, guide: Guide, now: datetime
) -> Departure | None:
    """The guide's first departure starting today where the tour runs."""
    today = now.astimezone(org.tz).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=org.tz)
    return session.scalar(
        select(Departure)
        .where(
            Departure.guide_id == guide.id,
            Departure.starts_at >= start,
            Departure.starts_at < start + timedelta(days=1),
        )
        .order_by(Departure.starts_at)
    )


def _must_be_guide_of(guide: Guide, departure: Departure) -> None:
    if departure.guide_id != guide.id:
        raise OperationsError(
            f"{departure.code} is not assigned to you. Call ops if that is wrong."
        )


# --- assignments ------------------------------------------------------------------------


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
            GuideAssignment.status.in_(("offered", "accepted")),
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
            f"Group: {group_size(session, departure)} guests\nRole: {role.title()} guide\n"
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


def _open_assignment(
    session: Session, guide: Guide, departure: Departure
) -> GuideAssignment | None:
    return session.scalar(
        select(GuideAssignment)
        .where(GuideAssignment.departure_id == departure.id, GuideAssignment.guide_id == guide.id)
        .order_by(GuideAssignment.id.desc())
    )


def accept_assignment(
    session: Session, org: Organization, guide: Guide, departure: Departure, now: datetime
) -> str:
    assignment = _open_assignment(session, guide, departure)
    if assignment is None or assignment.status in ("declined", "cancelled"):
        raise OperationsError(f"There is no open offer for {departure.code}.")
    if assignment.status == "accepted":
        when = local_time(org, departure.starts_at)
        return f"You already accepted {departure.code}. See you at {when}."
    assignment.status, assignment.responded_at = "accepted", now
    departure.guide_id = guide.id
    timeline.record(
        session,
        departure,
        "guide.accepted",
        actor=f"guide:{guide.id}",
        source="guide",
        at=now,
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
    assignment = _open_assignment(session, guide, departure)
    if assignment is None or assignment.status in ("declined", "cancelled"):
        if assignment is not None and assignment.status == "declined":
            return f"You already declined {departure.code}."
        raise OperationsError(f"There is no open offer for {departure.code}.")
    assignment.status, assignment.responded_at, assignment.reason = "declined", now, reason or None
    if departure.guide_id == guide.id:
        departure.guide_id = None
    options = replacement_guides(session, departure, exclude=guide)
    names = ", ".join(f"{g.name} {g.phone}" for g in options) or "nobody qualified is free"
    timeline.record(
        session,
        departure,
        "guide.declined",
        actor=f"guide:{guide.id}",
        source="guide",
        at=now,
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
    assignments = session.scalars(
        select(GuideAssignment).where(
            GuideAssignment.departure_id == departure.id,
            GuideAssignment.status.in_(("offered", "accepted")),
        )
    )
    for assignment in assignments:
        assignment.status, assignment.responded_at, assignment.reason = (
            "cancelled",
            now,
            reason or None,
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
    """Critical journey 7: release the current guide (told) and offer the trip to another
    (who gets the offer to ACCEPT)."""
    old = release_guide(session, org, departure, now, reason=reason, actor=actor)
    if old is not None and old.id == new_guide.id:
        raise OperationsError(f"{new_guide.name} is already the guide of {departure.code}.")
    return offer_assignment(session, org, departure, new_guide, now, actor=actor)


# --- on the day -------------------------------------------------------------------------


def check_in(
    session: Session, org: Organization, guide: Guide, departure: Departure, now: datetime
) -> str:
    _must_be_guide_of(guide, departure)
    if departure.status == DepartureStatus.STARTED:
        assert departure.checked_in_at is not None
        since = local_time(org, departure.checked_in_at)
        return f"You're already checked in to {departure.code} (since {since})."
    if departure.status != DepartureStatus.OPEN and departure.status != DepartureStatus.CLOSED:
        raise OperationsError(f"{departure.code} is {departure.status}; check-in is not possible.")
    if now < departure.starts_at - EARLIEST_CHECKIN:
        raise OperationsError(
            f"Too early: {departure.code} starts {local_time(org, departure.starts_at)}. "
            "Check in on the day."
        )
    departure.status, departure.checked_in_at = DepartureStatus.STARTED, now
    guests = confirmed_bookings(session, departure)
    for booking in guests:
        booking.attendance = "on_trip"
    size = sum(b.seats for b in guests)
    timeline.record(
        session,
        departure,
        "departure.started",
        actor=f"guide:{guide.id}",
        source="guide",
        at=now,
        content={"guide": guide.name, "guests": size},
    )
    tell_ops(
        session,
        org,
        f"✓ {guide.name} checked in to {departure.code} ({departure.tour.name}), {size} guests.",
        now,
    )
    for booking in guests:
        notify.to_customer(
            session,
            org,
            booking.customer,
            f"Your {departure.tour.name} has started! 🎉\nYour guide: {guide.name}\n"
            f"Contact: {guide.phone}\nHave an amazing time!",
            now,
            reference=booking.reference,
        )
    hours = departure.tour.duration_minutes / 60
    duration = f"{hours / 24:.0f} days" if hours >= 24 else f"{hours:g} hours"
    return (
        f"✓ Checked in to {departure.tour.name} ({departure.code})\nDuration: {duration}\n"
        f"Group: {size} guests\nEmergency: {support_line(org)}\nSafe journey!"
    )


def open_incident(session: Session, departure: Departure) -> Incident | None:
    return session.scalar(
        select(Incident)
        .where(Incident.departure_id == departure.id, Incident.status == "open")
        .order_by(Incident.id.desc())
    )


def report_issue(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    text: str,
    now: datetime,
) -> str:
    _must_be_guide_of(guide, departure)
    if not text.strip():
        raise OperationsError(f"Say what happened: ISSUE {departure.code} <what happened>")
    severity = severity_of(text)
    incident = Incident(
        organization_id=org.id,
        departure_id=departure.id,
        guide_id=guide.id,
        severity=severity,
        text=text.strip()[:2000],
        opened_at=now,
    )
    session.add(incident)
    session.flush()
    timeline.record(
        session,
        departure,
        "incident.opened",
        actor=f"guide:{guide.id}",
        source="guide",
        at=now,
        content={"incident": incident.number, "severity": severity, "text": incident.text},
    )
    tell_ops(
        session,
        org,
        f"🚨 {severity.upper()} {incident.number} on {departure.code} from {guide.name} "
        f"({guide.phone}): {incident.text[:400]}",
        now,
        owner_too=severity == "high",
    )
    return (
        f"⚠️ Issue logged: {incident.number}\nTrip: {departure.code}\nSeverity: {severity.title()}\n"
        f"Ops team alerted.\nSupport: {support_line(org)}"
    )


def update_issue(
    session: Session, org: Organization, author: str, departure: Departure, text: str, now: datetime
) -> tuple[Incident, str]:
    incident = open_incident(session, departure)
    if incident is None:
        raise OperationsError(
            f"There is no open incident on {departure.code}. To report one: "
            f"ISSUE {departure.code} <what happened>"
        )
    resolves = bool(RESOLVED.search(text))
    session.add(
        IncidentUpdate(
            incident_id=incident.id,
            author=author,
            text=text.strip()[:2000],
            resolves=resolves,
            created_at=now,
        )
    )
    content = {"incident": incident.number, "text": text.strip()[:500]}
    if resolves:
        incident.status, incident.resolved_at = "resolved", now
        incident.response_minutes = int((now - incident.opened_at).total_seconds() // 60)
        content["response_minutes"] = incident.response_minutes
    timeline.record(
        session,
        departure,
        "incident.resolved" if resolves else "incident.updated",
        actor=author,
        source="guide" if author.startswith("guide") else "admin",
        at=now,
        content=content,
    )
    if resolves:
        return incident, (
            f"✓ Resolved: {incident.number}\nResponse time: {incident.response_minutes} minutes\n"
            "Thank you for the quick reporting!"
        )
    return incident, f"Update added to {incident.number}. Ops can see it."


def guide_update(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    text: str,
    now: datetime,
) -> str:
    _must_be_guide_of(guide, departure)
    incident, reply = update_issue(session, org, f"guide:{guide.id}", departure, text, now)
    state = "RESOLVED" if incident.status == "resolved" else "update"
    tell_ops(
        session, org, f"{incident.number} {state} from {guide.name}: {text.strip()[:400]}", now
    )
    return reply


def ops_update(
    session: Session,
    org: Organization,
    incident: Incident,
    text: str,
    now: datetime,
    *,
    staff_id: int | None = None,
    tell_customers: bool = False,
) -> None:
    """Ops writes on an incident: the guide is told, and the departure's customers if chosen."""
    departure = incident.departure
    update_issue(session, org, f"staff:{staff_id or 0}", departure, text, now)
    if departure.guide is not None:
        notify.to_staff(
            session,
            org,
            departure.guide.phone,
            f"Update from ops on {incident.number}:\n{text}",
            now,
        )
    if tell_customers:
        for booking in confirmed_bookings(session, departure):
            notify.to_customer(
                session,
                org,
                booking.customer,
                f"Update on your {departure.tour.name}:\n{text}",
                now,
                reference=booking.reference,
            )


def check_out(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    text: str,
    now: datetime,
) -> str:
    _must_be_guide_of(guide, departure)
    if departure.status == DepartureStatus.COMPLETED:
        return f"{departure.code} is already checked out. Payroll was recorded."
    if departure.status != DepartureStatus.STARTED:
        raise OperationsError(
            f"{departure.code} has not been checked in yet. Send CHECKIN {departure.code} first."
        )
    departure.status, departure.checked_out_at = DepartureStatus.COMPLETED, now
    guests = confirmed_bookings(session, departure)
    for booking in guests:
        transition(
            session,
            booking,
            BookingStatus.COMPLETED,
            now,
            actor=f"guide:{guide.id}",
            source="guide",
        )
        booking.attendance = "completed"
    assignment = _open_assignment(session, guide, departure)
    fee = (
        assignment.fee_minor
        if assignment is not None and assignment.status == "accepted"
        else guide.trip_fee_minor
    )
    session.add(
        PayrollEntry(
            organization_id=org.id,
            guide_id=guide.id,
            departure_id=departure.id,
            amount_minor=fee,
            currency=org.currency,
            note=text.strip()[:500] or None,
            created_at=now,
        )
    )
    timeline.record(
        session,
        departure,
        "departure.completed",
        actor=f"guide:{guide.id}",
        source="guide",
        at=now,
        content={
            "guide": guide.name,
            "guests": sum(b.seats for b in guests),
            "note": text[:500],
            "payroll_minor": fee,
        },
    )
    tell_ops(
        session, org, f"✓ {guide.name} checked out of {departure.code}. {text.strip()[:300]}", now
    )
    for booking in guests:
        notify.to_customer(
            session,
            org,
            booking.customer,
            f"🎉 Thank you for travelling with {org.name} on the {departure.tour.name}!\n"
            "How was it? Reply with a score from 1 to 5 and any comments; we read every one.",
            now,
            reference=booking.reference,
        )
    return (
        f"✓ Trip completed: {departure.code}\nPayroll: {format_money(fee, org.currency)} added.\n"
        "Thank you for your excellent work! 🌟"
    )


# --- the manifest -------------------------------------------------------------------------


def manifest(session: Session, org: Organization, departure: Departure) -> list[str]:
    """The participant list a guide needs an hour before: a summary first, then each booking,
    dietary needs marked so they stand out, unpaid or pending ones flagged. One string per
    message, split between bookings, never inside one."""
    rows = list(
        session.scalars(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status.in_(ACTIVE_BOOKINGS))
            .order_by(Booking.id)
        )
    )
    adults = sum(b.party.get("adult", 0) for b in rows)
    children = sum(b.seats - b.party.get("adult", 0) for b in rows)
    dietary = sum(1 for b in rows if b.dietary_notes)
    pickups = sum(1 for b in rows if b.pickup_notes)
    summary = (
        f"MANIFEST {departure.code} – {departure.tour.name}, "
        f"{local_time(org, departure.starts_at)}\n"
        f"{adults + children} guests ({adults} adults, {children} children), {dietary} dietary, "
        f"{pickups} pickups, {len(rows)} bookings"
    )
    lines = []
    for n, b in enumerate(rows, 1):
        line = (
            f"{n}. {b.customer.name or 'Guest'} {b.customer.phone} – {b.party.get('adult', 0)}A "
            f"{b.seats - b.party.get('adult', 0)}C ({b.reference})"
        )
        if b.dietary_notes:
            line += f"\n   ⚠️ DIET: {b.dietary_notes.upper()}"
        if b.pickup_notes:
            line += f"\n   Pickup: {b.pickup_notes}"
        if b.status != BookingStatus.CONFIRMED:
            line += f"\n   ❗ {b.status.replace('_', ' ')}: not confirmed, possible no-show"
        elif b.balance_minor:
            line += f"\n   ❗ UNPAID balance {format_money(b.balance_minor, b.currency)}"
        lines.append(line)
    if not lines:
        return [summary + "\nNo guests booked."]
    messages, current = [], summary
    for block in lines:  # whole bookings only, so a name is never apart from its notes
        if len(current) + 1 + len(block) > SMS_LIMIT:
            messages.append(current)
            current = block
        else:
            current = f"{current}\n{block}"
    messages.append(current)
    return messages
