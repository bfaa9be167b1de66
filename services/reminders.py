"""Scheduled reminders, run by the once-a-minute sweep: before the departure, on the day
itself (the meeting point with its map pin, and the guide's name), before the balance is
due (with the balance link), and before a hold lapses (with the payment link).
Each is recorded in reminders_sent under a unique key, so running the job twice, or on two
workers at once, sends it once."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote_plus

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Departure, Organization, ReminderSent, Tour
from services import notify
from services.i18n import customer_voice
from services.payments import balance_due_at, pay_url

LOOKAHEAD = timedelta(days=31)
# The day itself: from 07:00 in the organization's zone on the departure's date, or from
# three hours before an earlier start, until it starts.
DAY_OF_HOUR = 7
DAY_OF_LEAD = timedelta(hours=3)


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
    sent = {"pre_departure": 0, "day_of": 0, "balance_due": 0, "hold_expiring": 0}
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
        # On the day itself the day's message says it all (below): no reminder as well.
        today = day_of_due(org, dep, now)
        for days in sorted(settings.reminder_days_before):
            if today or days_left >= days:
                continue
            # The nearest threshold only, sent now or before: never an older one after it
            # (a booking made the day before got the 1-day reminder, then the 7-day one a
            # minute later). None for a booking confirmed inside that threshold's window:
            # its confirmation has just said it all, a reminder straight after is noise.
            window_opened = dep.starts_at - timedelta(days=days)
            booked_inside = booking.confirmed_at is not None and booking.confirmed_at > (
                window_opened
            )
            if not booked_inside and _once(session, booking, "pre_departure", f"{days}d", now):
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
            break
        local_start = org.local(dep.starts_at)
        if today and _once(session, booking, "day_of", f"{local_start:%Y%m%d}", now):
            day_of(session, org, booking, now)
            sent["day_of"] += 1
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


def day_of_due(org: Organization, dep: Departure, now: datetime) -> bool:
    start = org.local(dep.starts_at)
    morning = start.replace(hour=DAY_OF_HOUR, minute=0, second=0, microsecond=0)
    return min(morning, start - DAY_OF_LEAD) <= now < dep.starts_at


def map_link(tour: Tour) -> str | None:
    """A link any phone opens in its maps app: the pin, else the meeting point's words."""
    if tour.latitude is not None and tour.longitude is not None:
        where = f"{tour.latitude:.6f},{tour.longitude:.6f}"
    elif tour.meeting_point:
        where = quote_plus(tour.meeting_point)
    else:
        return None
    return f"https://www.google.com/maps/search/?api=1&query={where}"


def map_pin(tour: Tour) -> list[str] | None:
    """Twilio's persistent_action for a WhatsApp location pin: ["geo:LAT,LON|LABEL"]."""
    if tour.latitude is None or tour.longitude is None:
        return None
    label = " ".join((tour.meeting_point or tour.name).replace("|", " ").split())[:100]
    return [f"geo:{tour.latitude:.6f},{tour.longitude:.6f}|{label}"]


def day_of(session: Session, org: Organization, booking: Booking, now: datetime) -> None:
    """On the day: when, where (with the map pin on WhatsApp, a maps link in the words) and
    who the guide is."""
    dep, tour = booking.departure, booking.departure.tour
    voice = customer_voice(org, booking.customer)
    link = map_link(tour)
    guide = dep.guide.name if dep.guide is not None else None
    lines = [
        voice._(
            "Today is the day! {tour} at {time} ({reference}).",
            tour=tour.name,
            time=voice.clock(dep.starts_at),
            reference=booking.reference,
        ),
        voice._("Meeting point: {place}.", place=tour.meeting_point)
        if tour.meeting_point
        else voice._("Meeting point: we will confirm."),
    ]
    if link:
        lines.append(voice._("Map: {link}", link=link))
    lines.append(
        voice._("Your guide: {guide}.", guide=guide)
        if guide
        else voice._("Your guide will meet you there.")
    )
    lines.append(voice._("See you there! Questions? Reply here."))
    _, template = notify.purpose_template(
        session,
        org,
        voice,
        booking.customer,
        "day_of",
        {
            "tour": tour.name,
            "time": voice.clock(dep.starts_at),
            "reference": booking.reference,
            "place": tour.meeting_point or voice._("we will confirm"),
            "map": link or "",
            "guide": guide or voice._("to be confirmed"),
        },
    )
    notify.to_customer(
        session,
        org,
        booking.customer,
        "\n".join(lines),
        now,
        template=template,
        persistent_action=map_pin(tour),
        reference=booking.reference,
    )
