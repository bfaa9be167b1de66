"""Guide assignments: offering a departure to a guide, their ACCEPT or DECLINE, and ops
releasing or replacing a guide (one who falls ill on the morning of a trip). Everyone
concerned is messaged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from models import (
    LIVE_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    Departure,
    DepartureStatus,
    Guide,
    GuideAssignment,
    GuideTimeOff,
    Organization,
)
from services import assignment_states, notify, timeline
from services.crew import OperationsError, group_size, open_assignment, tell_ops
from services.i18n import N_, Voice, guide_voice
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
    _refuse_time_off(session, org, guide, departure)
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
    group = group_size(session, departure)

    def variables(voice: Voice) -> dict[str, str]:
        return {
            "tour": departure.tour.name,
            "code": departure.code,
            "when": voice.when(departure.starts_at),
            "place": departure.tour.meeting_point or voice._("see ops"),
            "group": voice.number(group),
            "role": role_word(voice, role),
            "fee": voice.money(fee, org.currency),
            "accept": departure.code,
            "decline": departure.code,
        }

    voice = guide_voice(org, guide)
    said = variables(voice)
    notify.to_staff(
        session,
        org,
        guide.phone,
        voice._(
            "📋 Trip assignment\n{tour} ({code})\n{when} to {end}\nMeeting point: {place}\n"
            "Group: {group}\nRole: {role} guide\nFee: {fee}\n"
            "Reply ACCEPT {code} or DECLINE {code}",
            tour=said["tour"],
            code=said["code"],
            when=said["when"],
            end=voice.date(departure.ends_at),
            place=said["place"],
            group=voice.n_("{n} guest", "{n} guests", group),
            role=said["role"],
            fee=said["fee"],
        ),
        now,
        # On WhatsApp outside the guide's 24-hour window: the approved template.
        template=notify.guide_template(session, org, guide, "guide_offer", variables),
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


# A guide's role on a trip, as the offer names it ("Lead guide"); another role is shown as
# ops wrote it.
ROLES = {"lead": N_("Lead")}


def role_word(voice: Voice, role: str) -> str:
    return voice._(ROLES[role]) if role in ROLES else role.title()


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


def pending_elsewhere(session: Session, guide: Guide, departure: Departure) -> Departure | None:
    """Another departure at the same time the guide has on offer (not yet answered)."""
    return session.scalar(
        select(Departure)
        .join(GuideAssignment, GuideAssignment.departure_id == Departure.id)
        .where(
            GuideAssignment.guide_id == guide.id,
            GuideAssignment.status == AssignmentStatus.OFFERED,
            Departure.id != departure.id,
            Departure.status.in_((DepartureStatus.OPEN, DepartureStatus.STARTED)),
            Departure.starts_at < departure.ends_at,
            Departure.ends_at > departure.starts_at,
        )
        .limit(1)
    )


def clash(session: Session, guide: Guide, departure: Departure) -> Departure | None:
    """The departure keeping the guide busy at that time (theirs, overlapping), if any."""
    return session.scalar(
        select(Departure)
        .where(
            Departure.guide_id == guide.id,
            Departure.id != departure.id,
            Departure.status.in_((DepartureStatus.OPEN, DepartureStatus.STARTED)),
            Departure.starts_at < departure.ends_at,
            Departure.ends_at > departure.starts_at,
        )
        .order_by(Departure.starts_at)
        .limit(1)
    )


# --- time off ------------------------------------------------------------------------------

MAX_TIME_OFF = timedelta(days=366)


def time_off_during(session: Session, guide: Guide, departure: Departure) -> GuideTimeOff | None:
    """The guide's time off overlapping the departure, if any."""
    return session.scalar(
        select(GuideTimeOff)
        .where(
            GuideTimeOff.guide_id == guide.id,
            GuideTimeOff.starts_at < departure.ends_at,
            GuideTimeOff.ends_at > departure.starts_at,
        )
        .order_by(GuideTimeOff.starts_at)
        .limit(1)
    )


def describe_time_off(org: Organization, off: GuideTimeOff) -> str:
    """ "off 12 Dec–14 Dec (wedding)" for whole days, "off Sat 12 Dec 09:00–13:00" else."""
    start, end = org.local(off.starts_at), org.local(off.ends_at)
    midnight = time(0, 0)
    if start.time() == midnight and end.time() == midnight:
        last = end - timedelta(days=1)
        span = f"{start.day} {start:%b}" + (
            "" if last.date() == start.date() else f"–{last.day} {last:%b}"
        )
    elif start.date() == end.date():
        span = f"{local_time(org, off.starts_at)}–{end:%H:%M}"
    else:
        span = f"{local_time(org, off.starts_at)} – {local_time(org, off.ends_at)}"
    return f"off {span}" + (f" ({off.reason})" if off.reason else "")


def _refuse_time_off(
    session: Session, org: Organization, guide: Guide, departure: Departure
) -> None:
    off = time_off_during(session, guide, departure)
    if off is not None:
        raise OperationsError(
            f"{guide.name} is {describe_time_off(org, off)}, during {departure.code}: "
            "choose another guide, or remove the time off on their page."
        )


def time_off_span(
    org: Organization, first: date, last: date, start: time | None, end: time | None
) -> tuple[datetime, datetime]:
    """Days off from `first` to `last` (whole days in the organization's zone), or from a
    time on the first day to a time on the last."""
    starts = datetime.combine(first, start or time(0, 0), tzinfo=org.tz)
    ends = (
        datetime.combine(last, end, tzinfo=org.tz)
        if end is not None
        else datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=org.tz)
    )
    return starts, ends


def add_time_off(
    session: Session,
    org: Organization,
    guide: Guide,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    reason: str = "",
    staff_id: int | None = None,
) -> tuple[GuideTimeOff, list[Departure]]:
    """Records the time off; returns the departures the guide leads or is offered in it
    (still theirs: ops replace them on each departure's page)."""
    if ends_at <= starts_at:
        raise OperationsError("The time off must end after it starts.")
    if ends_at <= now:
        raise OperationsError("That time off is already over.")
    if ends_at - starts_at > MAX_TIME_OFF:
        raise OperationsError("Time off can be at most a year at a time.")
    off = GuideTimeOff(
        organization_id=org.id,
        guide_id=guide.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip()[:200] or None,
        created_by_id=staff_id,
        created_at=now,
    )
    session.add(off)
    session.flush()
    live = (DepartureStatus.OPEN, DepartureStatus.CLOSED, DepartureStatus.STARTED)
    offered = select(GuideAssignment.departure_id).where(
        GuideAssignment.guide_id == guide.id, GuideAssignment.status == AssignmentStatus.OFFERED
    )
    affected = list(
        session.scalars(
            select(Departure)
            .where(
                Departure.organization_id == org.id,
                (Departure.guide_id == guide.id) | Departure.id.in_(offered),
                Departure.status.in_(live),
                Departure.starts_at < ends_at,
                Departure.ends_at > starts_at,
            )
            .order_by(Departure.starts_at)
        )
    )
    return off, affected


def remove_time_off(session: Session, off: GuideTimeOff) -> None:
    session.delete(off)
    session.flush()


def guide_time_off(session: Session, guide: Guide, now: datetime) -> list[GuideTimeOff]:
    """The guide's time off not yet over, soonest first."""
    return list(
        session.scalars(
            select(GuideTimeOff)
            .where(GuideTimeOff.guide_id == guide.id, GuideTimeOff.ends_at > now)
            .order_by(GuideTimeOff.starts_at)
        )
    )


@dataclass
class GuideOption:
    """A guide of the tour as ops choose a replacement: free or why not."""

    guide: Guide
    why_not: str | None = None
    last_led: datetime | None = None

    @property
    def free(self) -> bool:
        return self.why_not is None


def guide_options(
    session: Session, org: Organization, departure: Departure, exclude: Guide | None = None
) -> list[GuideOption]:
    """Every guide qualified for the tour: the free ones first (whoever led the tour most
    recently first), then the others with the reason they cannot go: the current guide,
    one released from or who declined this departure, one leading or offered another trip
    at that time, one deactivated."""
    answered = {
        a.guide_id: a.status
        for a in session.scalars(
            select(GuideAssignment)
            .where(GuideAssignment.departure_id == departure.id)
            .order_by(GuideAssignment.id)
        )
    }
    led: dict[int | None, datetime] = {
        guide_id: at
        for guide_id, at in session.execute(
            select(Departure.guide_id, Departure.starts_at)
            .where(
                Departure.tour_id == departure.tour_id,
                Departure.guide_id.is_not(None),
                Departure.starts_at < departure.starts_at,
                Departure.status != DepartureStatus.CANCELLED,
            )
            .order_by(Departure.starts_at)
        ).tuples()
    }
    options = []
    for guide in departure.tour.guides:
        option = GuideOption(guide, last_led=led.get(guide.id))
        status = answered.get(guide.id)
        if not guide.active:
            option.why_not = "deactivated"
        elif exclude is not None and guide.id == exclude.id:
            option.why_not = "the current guide"
        elif status == AssignmentStatus.CANCELLED:
            option.why_not = "released from this trip"
        elif status == AssignmentStatus.DECLINED:
            option.why_not = "declined this trip"
        elif status == AssignmentStatus.OFFERED:
            option.why_not = "already offered this trip"
        elif (off := time_off_during(session, guide, departure)) is not None:
            option.why_not = describe_time_off(org, off)
        elif (busy := clash(session, guide, departure)) is not None:
            option.why_not = f"leading {busy.code} at {local_time(org, busy.starts_at)}"
        elif (offered := pending_elsewhere(session, guide, departure)) is not None:
            option.why_not = f"offered {offered.code} at {local_time(org, offered.starts_at)}"
        options.append(option)
    oldest = datetime.min.replace(tzinfo=departure.starts_at.tzinfo)
    options.sort(key=lambda o: (not o.free, -(o.last_led or oldest).timestamp(), o.guide.name))
    return options


def replacement_guides(
    session: Session, departure: Departure, exclude: Guide | None = None
) -> list[Guide]:
    """Active guides qualified for the tour and free for the whole departure, leaving out
    the guide being replaced, anyone released from, offered or who declined this departure,
    and anyone leading or holding an unanswered offer for another trip at that time."""
    org = session.get(Organization, departure.organization_id)
    assert org is not None
    return [o.guide for o in guide_options(session, org, departure, exclude) if o.free]


def pending_offer(session: Session, departure: Departure) -> GuideAssignment | None:
    """The newest offer of the departure no guide has answered yet."""
    return session.scalar(
        select(GuideAssignment)
        .options(joinedload(GuideAssignment.guide))
        .where(
            GuideAssignment.departure_id == departure.id,
            GuideAssignment.status == AssignmentStatus.OFFERED,
        )
        .order_by(GuideAssignment.id.desc())
        .limit(1)
    )


def pending_offers(session: Session, departure_ids: list[int]) -> dict[int, GuideAssignment]:
    if not departure_ids:
        return {}
    rows = session.scalars(
        select(GuideAssignment)
        .options(joinedload(GuideAssignment.guide))
        .where(
            GuideAssignment.departure_id.in_(departure_ids),
            GuideAssignment.status == AssignmentStatus.OFFERED,
        )
        .order_by(GuideAssignment.id)
    )
    return {a.departure_id: a for a in rows}


def accept_assignment(
    session: Session, org: Organization, guide: Guide, departure: Departure, now: datetime
) -> str:
    assignment = open_assignment(session, guide, departure)
    voice = guide_voice(org, guide)
    if assignment is None or assignment.status not in LIVE_ASSIGNMENT_STATUSES:
        raise OperationsError(N_("There is no open offer for {code}."), code=departure.code)
    if assignment.status == AssignmentStatus.ACCEPTED:
        return voice._(
            "You already accepted {code}. See you at {when}.",
            code=departure.code,
            when=voice.when(departure.starts_at),
        )
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
    return voice._(
        "✓ Assignment confirmed: {tour} ({code})\nStart: {when}\nMeeting point: {place}\n"
        "Send CHECKIN {code} when the trip starts.",
        tour=departure.tour.name,
        code=departure.code,
        when=voice.when(departure.starts_at),
        place=departure.tour.meeting_point or voice._("see ops"),
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
    voice = guide_voice(org, guide)
    if assignment is None or assignment.status not in LIVE_ASSIGNMENT_STATUSES:
        if assignment is not None and assignment.status == AssignmentStatus.DECLINED:
            return voice._("You already declined {code}.", code=departure.code)
        raise OperationsError(N_("There is no open offer for {code}."), code=departure.code)
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
    return voice._(
        "Understood, you're released from {code}. Ops have been told.", code=departure.code
    )


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
        voice = guide_voice(org, guide)
        released = voice._(
            "Ops have released you from {code} ({tour}, {when}).",
            code=departure.code,
            tour=departure.tour.name,
            when=voice.when(departure.starts_at),
        )
        if reason:  # ops' own words, as they wrote them
            released = f"{released[:-1]}: {reason}."
        notify.to_staff(session, org, guide.phone, released, now)
    if guide is not None and not assignments:
        # The guide was set without an offer (the catalog): their release is recorded as an
        # assignment too, so they are not offered this departure again as its replacement.
        record = GuideAssignment(
            organization_id=org.id,
            departure_id=departure.id,
            guide_id=guide.id,
            fee_minor=guide.trip_fee_minor,
            offered_at=now,
        )
        session.add(record)
        session.flush()
        assignment_states.transition(
            session,
            record,
            AssignmentStatus.CANCELLED,
            now,
            event="guide.released",
            actor=actor,
            source="admin",
            reason=reason,
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


def assign_directly(
    session: Session,
    org: Organization,
    departure: Departure,
    guide: Guide,
    now: datetime,
    *,
    reason: str = "",
    actor: str = "ops",
) -> GuideAssignment:
    """Ops have agreed it with the guide (on the phone, say): the guide has the departure at
    once, without ACCEPT. The current guide, if any, is released and told; other open offers
    are withdrawn; the new guide gets the trip's details."""
    if departure.status not in (DepartureStatus.OPEN, DepartureStatus.CLOSED):
        raise OperationsError(f"{departure.code} is {departure.status}; its guide cannot change.")
    if departure.tour not in guide.tours:
        raise OperationsError(f"{guide.name} is not qualified for {departure.tour.name}.")
    if not guide.active:
        raise OperationsError(f"{guide.name} is deactivated.")
    _refuse_time_off(session, org, guide, departure)
    if departure.guide_id == guide.id:
        raise OperationsError(f"{guide.name} is already the guide of {departure.code}.")
    if (busy := clash(session, guide, departure)) is not None:
        raise OperationsError(
            f"{guide.name} is leading {busy.code} at {local_time(org, busy.starts_at)}."
        )
    release_guide(session, org, departure, now, reason=reason, actor=actor)
    assignment = GuideAssignment(
        organization_id=org.id,
        departure_id=departure.id,
        guide_id=guide.id,
        fee_minor=guide.trip_fee_minor,
        offered_at=now,
    )
    session.add(assignment)
    session.flush()
    departure.guide_id = guide.id
    assignment_states.transition(
        session,
        assignment,
        AssignmentStatus.ACCEPTED,
        now,
        event="guide.assigned",
        actor=actor,
        source="admin",
        content={"guide": guide.name, "reason": reason},
    )
    voice = guide_voice(org, guide)
    notify.to_staff(
        session,
        org,
        guide.phone,
        voice._(
            "📋 You're the guide of {tour} ({code})\nStart: {when}\nMeeting point: {place}\n"
            "Group: {group}\nFee: {fee}\nSend MANIFEST {code} for the guest list, CHECKIN "
            "{code} when the trip starts.",
            tour=departure.tour.name,
            code=departure.code,
            when=voice.when(departure.starts_at),
            place=departure.tour.meeting_point or voice._("see ops"),
            group=voice.n_("{n} guest", "{n} guests", group_size(session, departure)),
            fee=voice.money(guide.trip_fee_minor, org.currency),
        ),
        now,
    )
    return assignment


def escalation_due(org: Organization, assignment: GuideAssignment) -> datetime:
    """When an unanswered offer goes to ops: after the organization's time, or halfway to
    the start when the trip is sooner than that (a guide emergency on the morning)."""
    wait = timedelta(minutes=org.settings.guide_offer_escalation_minutes)
    halfway = (assignment.departure.starts_at - assignment.offered_at) / 2
    return assignment.offered_at + max(min(wait, halfway), timedelta(0))


def escalate_unanswered_offers(session: Session, now: datetime) -> list[GuideAssignment]:
    """The sweep's part: every offer nobody has answered in time is told to ops once (the
    conditional update makes two sweeps at once tell them once), with the free guides."""
    candidates = list(
        session.scalars(
            select(GuideAssignment)
            .options(joinedload(GuideAssignment.departure), joinedload(GuideAssignment.guide))
            .join(Departure, Departure.id == GuideAssignment.departure_id)
            .where(
                GuideAssignment.status == AssignmentStatus.OFFERED,
                GuideAssignment.escalated_at.is_(None),
                Departure.status.in_((DepartureStatus.OPEN, DepartureStatus.CLOSED)),
                Departure.starts_at > now,
            )
            .order_by(GuideAssignment.id)
        )
    )
    escalated = []
    orgs: dict[int, Organization] = {}
    for assignment in candidates:
        org = orgs.get(assignment.organization_id) or session.get(
            Organization, assignment.organization_id
        )
        assert org is not None
        orgs[org.id] = org
        if escalation_due(org, assignment) > now:
            continue
        won = session.execute(
            update(GuideAssignment)
            .where(GuideAssignment.id == assignment.id, GuideAssignment.escalated_at.is_(None))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(assignment)
        dep = assignment.departure
        free = replacement_guides(session, dep, exclude=assignment.guide)
        names = ", ".join(f"{g.name} {g.phone}" for g in free) or "nobody qualified is free"
        minutes = int((now - assignment.offered_at).total_seconds() // 60)
        tell_ops(
            session,
            org,
            f"⚠️ {assignment.guide.name} has not answered the offer of {dep.code} "
            f"({dep.tour.name}, {local_time(org, dep.starts_at)}) for {minutes} min. "
            f"Qualified and free: {names}. Assign one in the admin.",
            now,
        )
        timeline.record(
            session,
            dep,
            "guide.offer_escalated",
            actor="system",
            source="sweep",
            at=now,
            content={"guide": assignment.guide.name, "minutes": minutes},
        )
        escalated.append(assignment)
    return escalated
