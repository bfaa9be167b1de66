"""Scheduled reminders, run by the once-a-minute sweep: before the departure, before the
balance is due (with the balance link), and before a hold lapses (with the payment link).
Each is recorded in reminders_sent under a unique key, so running the job twice, or on two
workers at once, sends it once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Departure, Organization, ReminderSent
from services import notify
from services.i18n import customer_voice
from services.payments import balance_due_at, pay_url

LOOKAHEAD = timedelta(days=31)


def _once(session: Session, booking: Booking, kind: str, key: str, now: datetime) -> bool:
    """Claims the reminder; False if it was already sent."""
    try:
        with session.begin_nested():
            session.add(ReminderSent(booking_id=booking.id, kind=kind, key=key, sent_at=now))
            session.flush()
        return True
    except IntegrityError:
        return False


def send_due_reminders(session: Session, now: datetime, base_url: str | None) -> dict[str, int]:
    """base_url: the public address the payment links are sent at."""
    sent = {"pre_departure": 0, "balance_due": 0, "hold_expiring": 0}
    orgs: dict[int, Organization] = {}

    def org_of(booking: Booking) -> Organization:
        if booking.organization_id not in orgs:
            org = session.get(Organization, booking.organization_id)
            assert org is not None
            orgs[org.id] = org
        return orgs[booking.organization_id]

    confirmed = session.scalars(
        select(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Departure.starts_at > now,
            Departure.starts_at <= now + LOOKAHEAD,
        )
        .order_by(Booking.id)
    )
    for booking in confirmed:
        org, dep = org_of(booking), booking.departure
        settings = org.settings
        days_left = (dep.starts_at - now).days
        for days in sorted(settings.reminder_days_before):
            if days_left < days and _once(session, booking, "pre_departure", f"{days}d", now):
                voice = customer_voice(org, booking.customer)
                starts = voice._(
                    "Hi! Your {tour} starts {when} ({reference}).",
                    tour=dep.tour.name,
                    when=voice.when(dep.starts_at),
                    reference=booking.reference,
                )
                meet = (
                    voice._("Meeting point: {place}.", place=dep.tour.meeting_point)
                    if dep.tour.meeting_point
                    else voice._("Meeting point: we will confirm.")
                )
                questions = voice._("Questions? Reply here.")
                # Two-way on WhatsApp: I'll be there / I need to change / Cancel booking
                # (bot/taps.py), inside the window or with the approved template.
                buttons, template = notify.purpose_template(
                    session,
                    org,
                    voice,
                    booking.customer,
                    "pre_departure",
                    {
                        "tour": dep.tour.name,
                        "when": voice.when(dep.starts_at),
                        "reference": booking.reference,
                        "place": dep.tour.meeting_point or voice._("we will confirm"),
                    },
                    tap_arg=booking.reference,
                )
                notify.to_customer(
                    session,
                    org,
                    booking.customer,
                    "\n".join([starts, meet, questions]),
                    now,
                    content=buttons,
                    template=template,
                    reference=booking.reference,
                )
                sent["pre_departure"] += 1
                break  # the nearest threshold only: no burst of old reminders
        due = balance_due_at(org, booking)
        remind_from = due - timedelta(days=settings.balance_reminder_days)
        # Only ahead of the due date: a reminder never names a day already past (a booking
        # made after its nominal due date was told "due now" when it was confirmed).
        if (
            booking.balance_minor > 0
            and remind_from <= now < due
            and _once(session, booking, "balance_due", f"{org.local(due):%Y%m%d}", now)
        ):
            voice = customer_voice(org, booking.customer)
            _, template = notify.purpose_template(
                session,
                org,
                voice,
                booking.customer,
                "balance_due",
                {
                    "reference": booking.reference,
                    "tour": dep.tour.name,
                    "amount": voice.money(booking.balance_minor, booking.currency),
                    "due": voice.date(due),
                    "link": pay_url(booking, base_url),
                },
            )
            notify.to_customer(
                session,
                org,
                booking.customer,
                voice._(
                    "Balance for {reference} ({tour}): {amount}, due {due}.\nPay here: {link}",
                    reference=booking.reference,
                    tour=dep.tour.name,
                    amount=voice.money(booking.balance_minor, booking.currency),
                    due=voice.date(due, year=True),
                    link=pay_url(booking, base_url),
                ),
                now,
                template=template,
                reference=booking.reference,
            )
            sent["balance_due"] += 1

    # Holds lapsing soon, whenever their departure is.
    lapsing = session.scalars(
        select(Booking)
        .where(
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at > now,
            Booking.hold_expires_at <= now + timedelta(hours=48),
        )
        .order_by(Booking.id)
    )
    for booking in lapsing:
        org, dep = org_of(booking), booking.departure
        expires = booking.hold_expires_at
        assert expires is not None
        if expires <= now + timedelta(hours=org.settings.hold_nudge_hours) and _once(
            session, booking, "hold_expiring", f"{expires:%Y%m%d%H%M}", now
        ):
            voice = customer_voice(org, booking.customer)
            _, template = notify.purpose_template(
                session,
                org,
                voice,
                booking.customer,
                "hold_expiring",
                {
                    "tour": dep.tour.name,
                    "reference": booking.reference,
                    "expires": voice.when(expires),
                    "link": pay_url(booking, base_url),
                },
            )
            notify.to_customer(
                session,
                org,
                booking.customer,
                voice._(
                    "Your seats on {tour} ({reference}) are held until {expires}. "
                    "Pay to keep them: {link}",
                    tour=dep.tour.name,
                    reference=booking.reference,
                    expires=voice.when(expires),
                    link=pay_url(booking, base_url),
                ),
                now,
                template=template,
                reference=booking.reference,
            )
            sent["hold_expiring"] += 1
    return sent
