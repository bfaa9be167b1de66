"""The day of a departure: check-in, check-out with payroll, and the manifest. Assignments
are in services/assignments.py, incidents in services/incidents.py, and what the three share
(which departure a command means, telling ops, their error) in services/crew.py. Each
function checks who may do what and is safe to repeat: a guide on a trail with poor signal
will send the same command twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    EXPECTED_STATUSES,
    NOT_STARTED_DEPARTURE_STATUSES,
    AssignmentStatus,
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Guide,
    Organization,
    PayrollEntry,
)
from services import departure_states, notify, phrases
from services.booking_states import transition
from services.crew import (
    OperationsError,
    confirmed_bookings,
    must_be_guide_of,
    open_assignment,
    support_line,
    tell_ops,
)
from services.i18n import N_, Voice, customer_voice, guide_voice
from services.outbox import SMS_LIMIT

EARLIEST_CHECKIN = timedelta(hours=12)


# --- on the day -------------------------------------------------------------------------


def check_in(
    session: Session, org: Organization, guide: Guide, departure: Departure, now: datetime
) -> str:
    """The trip under way: its guests on it, ops and the customers told; the reply to the
    guide in their language (services.i18n.guide_voice), as are the refusals' said_by."""
    must_be_guide_of(guide, departure)
    guide_words = guide_voice(org, guide)
    if departure.status == DepartureStatus.STARTED:
        assert departure.checked_in_at is not None
        return guide_words._(
            "You're already checked in to {code} (since {since}).",
            code=departure.code,
            since=guide_words.when(departure.checked_in_at),
        )
    if departure.status == DepartureStatus.CANCELLED:
        raise OperationsError(
            N_("{code} cannot be checked in: it was cancelled."), code=departure.code
        )
    if departure.status not in NOT_STARTED_DEPARTURE_STATUSES:
        raise OperationsError(
            N_("{code} cannot be checked in: it has already finished."), code=departure.code
        )
    if now < departure.starts_at - EARLIEST_CHECKIN:
        raise OperationsError(
            N_("Too early: {code} starts {when}. Check in on the day."),
            code=departure.code,
            when=guide_words.when(departure.starts_at),
        )
    guests = confirmed_bookings(session, departure)
    for booking in guests:
        booking.attendance = "on_trip"
    size = sum(b.seats for b in guests)
    departure_states.transition(
        session,
        departure,
        DepartureStatus.STARTED,
        now,
        event="departure.started",
        actor=f"guide:{guide.id}",
        source="guide",
        content={"guide": guide.name, "guests": size},
    )
    tell_ops(
        session,
        org,
        f"✓ {guide.name} checked in to {departure.code} ({departure.tour.name}), {size} guests.",
        now,
    )
    for booking in guests:
        voice = customer_voice(org, booking.customer)
        notify.to_customer(
            session,
            org,
            booking.customer,
            voice._(
                "Your {tour} has started! 🎉\nYour guide: {guide}\nContact: {phone}\n"
                "Have an amazing time!",
                tour=departure.tour.name,
                guide=guide.name,
                phone=guide.phone,
            ),
            now,
            reference=booking.reference,
        )
    return guide_words._(
        "✓ Checked in to {tour} ({code})\nDuration: {duration}\nGroup: {group}\n"
        "Emergency: {phone}\nSafe journey!",
        tour=departure.tour.name,
        code=departure.code,
        duration=_duration(guide_words, departure.tour.duration_minutes),
        group=guide_words.n_("{n} guest", "{n} guests", size),
        phone=support_line(org),
    )


def _duration(voice: Voice, minutes: int) -> str:
    """ "14 days", "3 hours", "2.5 hours", in the guide's words."""
    hours = minutes / 60
    if hours >= 24:
        return voice.n_("{n} day", "{n} days", round(hours / 24))
    if hours == int(hours):
        return voice.n_("{n} hour", "{n} hours", int(hours))
    return voice._("{hours} hours", hours=voice.number(Decimal(str(round(hours, 2)))))


def check_out(
    session: Session,
    org: Organization,
    guide: Guide,
    departure: Departure,
    text: str,
    now: datetime,
) -> str:
    must_be_guide_of(guide, departure)
    guide_words = guide_voice(org, guide)
    if departure.status == DepartureStatus.COMPLETED:
        return guide_words._(
            "{code} is already checked out. Payroll was recorded.", code=departure.code
        )
    if departure.status != DepartureStatus.STARTED:
        raise OperationsError(
            N_("{code} has not been checked in yet. Send CHECKIN {code} first."),
            code=departure.code,
        )
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
    assignment = open_assignment(session, guide, departure)
    fee = (
        assignment.fee_minor
        if assignment is not None and assignment.status == AssignmentStatus.ACCEPTED
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
    departure_states.transition(
        session,
        departure,
        DepartureStatus.COMPLETED,
        now,
        event="departure.completed",
        actor=f"guide:{guide.id}",
        source="guide",
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
        voice = customer_voice(org, booking.customer)
        notify.to_customer(
            session,
            org,
            booking.customer,
            voice._(
                "🎉 Thank you for travelling with {organization} on the {tour}!\n"
                "How was it? Reply with a score from 1 to 5 and any comments; we read every one.",
                organization=org.name,
                tour=departure.tour.name,
            ),
            now,
            reference=booking.reference,
        )
    return guide_words._(
        "✓ Trip completed: {code}\nPayroll: {amount} added.\nThank you for your excellent work! 🌟",
        code=departure.code,
        amount=guide_words.money(fee, org.currency),
    )


# --- the manifest -------------------------------------------------------------------------


def manifest_messages(
    session: Session, org: Organization, departure: Departure, voice: Voice | None = None
) -> list[str]:
    """The guide's manifest as text messages (staff read services.manifest): the
    participant list a guide needs an hour before, a summary first, then each booking,
    dietary needs marked so they stand out, unpaid or pending ones flagged. One string per
    message, split between bookings, never inside one. voice: the guide's (English in the
    organization's zone without one); customers' own words stay as they wrote them."""
    voice = voice or Voice(tz=org.tz)
    rows = list(
        session.scalars(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status.in_(EXPECTED_STATUSES))
            .order_by(Booking.id)
        )
    )
    adults = sum(b.party.get("adult", 0) for b in rows)
    children = sum(b.seats - b.party.get("adult", 0) for b in rows)
    dietary = sum(1 for b in rows if b.dietary_notes)
    pickups = sum(1 for b in rows if b.pickup_notes)
    summary = (
        voice._(
            "MANIFEST {code} – {tour}, {when}",
            code=departure.code,
            tour=departure.tour.name,
            when=voice.when(departure.starts_at),
        )
        + "\n"
        + voice._(
            "{guests} ({adults}, {children}), {dietary}, {pickups}, {bookings}",
            guests=voice.n_("{n} guest", "{n} guests", adults + children),
            adults=voice.n_("{n} adult", "{n} adults", adults),
            children=voice.n_("{n} child", "{n} children", children),
            dietary=voice.n_("{n} dietary need", "{n} dietary needs", dietary),
            pickups=voice.n_("{n} pickup", "{n} pickups", pickups),
            bookings=voice.n_("{n} booking", "{n} bookings", len(rows)),
        )
    )
    lines = []
    for n, b in enumerate(rows, 1):
        name = notify.display_name(b.customer) if b.customer.name else voice._("Guest")
        line = (
            f"{n}. {name} {b.customer.phone} – {b.party.get('adult', 0)}A "
            f"{b.seats - b.party.get('adult', 0)}C ({b.reference})"
        )
        # Customers' words, each on its one line: a line break of theirs cannot start a
        # line that looks like ours.
        if b.dietary_notes:
            line += "\n   " + voice._(
                "⚠️ DIET: {notes}", notes=notify.one_line(b.dietary_notes).upper()
            )
        if b.pickup_notes:
            line += "\n   " + voice._("Pickup: {notes}", notes=notify.one_line(b.pickup_notes))
        if b.status != BookingStatus.CONFIRMED:
            line += "\n   " + voice._(
                "❗ {status}: not confirmed, possible no-show",
                status=voice._(phrases.status(b.status)).upper(),
            )
        elif b.balance_minor:
            line += "\n   " + voice._(
                "❗ UNPAID balance {amount}", amount=voice.money(b.balance_minor, b.currency)
            )
        lines.append(line)
    if not lines:
        return [summary + "\n" + voice._("No guests booked.")]
    messages, current = [], summary
    for block in lines:  # whole bookings only, so a name is never apart from its notes
        if len(current) + 1 + len(block) > SMS_LIMIT:
            messages.append(current)
            current = block
        else:
            current = f"{current}\n{block}"
    messages.append(current)
    return messages
