"""Owner approval, for operators who confirm each booking themselves. With
approval_required, a booking the bot holds waits as PENDING_APPROVAL; the owner gets a link
that is signed, expires after approval_timeout_hours and works once (a nonce on the
booking, cleared when used).
Confirm confirms; decline frees the seats and offers the customer other times; no answer
lets the sweep expire it and the customer is asked to call."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, Organization
from models.enums import status_label
from services import approval_links, availability, bookings, notify, payments, timeline
from services.booking_states import transition
from services.errors import ServiceError
from services.i18n import customer_voice
from services.money import format_money
from services.notify import local_time


class ApprovalError(ServiceError):
    http_status = 410


def request_approval(
    session: Session,
    org: Organization,
    booking: Booking,
    now: datetime,
    *,
    secret: str,
    base_url: str,
) -> str:
    """Moves a fresh hold to PENDING_APPROVAL and texts the owner the link; returns it. The
    stored message carries a marker instead of the token (services/approval_links.py)."""
    deadline = min(
        now + timedelta(hours=org.settings.approval_timeout_hours), booking.departure.starts_at
    )
    transition(
        session, booking, BookingStatus.PENDING_APPROVAL, now, reason="owner approval required"
    )
    booking.hold_expires_at = deadline  # the seats stay held while the owner decides
    booking.approval_nonce = secrets.token_urlsafe(16)
    session.flush()  # the booking's id goes into the marker
    approve_at = f"{base_url.rstrip('/')}/approve/"
    dep = booking.departure
    # The owner decides; with no owner phone on file, ops get the link rather than nobody.
    for phone in [org.owner_phone] if org.owner_phone else list(org.ops_phones or []):
        notify.to_staff(
            session,
            org,
            phone,
            (
                f"Approval needed for {booking.reference}: {dep.tour.name}, "
                f"{local_time(org, dep.starts_at)}, {notify.people(sum(booking.party.values()))}, "
                f"{format_money(booking.total_minor, booking.currency)}, "
                f"{notify.display_name(booking.customer)}.\nConfirm or decline by "
                f"{local_time(org, deadline)}: {approve_at}{approval_links.marker(booking)}"
            ),
            now,
        )
    return approve_at + approval_links.token(secret, booking)


def booking_for_token(session: Session, token: str, *, secret: str, max_age_hours: int) -> Booking:
    """The booking a link is for, or ApprovalError saying plainly why the link is no good."""
    try:
        data = approval_links.serializer(secret).loads(token, max_age=max_age_hours * 3600)
    except SignatureExpired:
        raise ApprovalError("This approval link has expired.") from None
    except BadSignature:
        raise ApprovalError("This approval link is not valid.") from None
    booking = session.get(Booking, data.get("b")) if isinstance(data, dict) else None
    if booking is None or not booking.approval_nonce or booking.approval_nonce != data.get("n"):
        raise ApprovalError("This approval link has already been used.")
    if booking.status != BookingStatus.PENDING_APPROVAL:
        raise ApprovalError(
            f"{booking.reference} is no longer waiting for approval "
            f"({status_label(booking.status)})."
        )
    return booking


def decide(
    session: Session,
    org: Organization,
    booking: Booking,
    approve: bool,
    now: datetime,
    *,
    base_url: str | None,
    nonce: str | None,
    actor: str = "owner",
    source: str = "approval",
) -> str:
    """The owner's answer, by the texted link or from the admin's booking page (actor: the
    staff member, source "admin"; nonce: the booking's own, which spends the link). base_url
    is the public address the payment link is sent at.

    The link is spent first, atomically: the nonce is cleared only where it is still the
    one the link carries, and only one of two simultaneous clicks (confirm and decline, say)
    finds it there; the other waits for the first to commit and is refused."""
    spent = session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.approval_nonce == nonce,
            Booking.status == BookingStatus.PENDING_APPROVAL,
        )
        .values(approval_nonce=None)
        .execution_options(synchronize_session=False)
    )
    if not nonce or getattr(spent, "rowcount", 0) != 1:
        session.refresh(booking)
        if booking.status != BookingStatus.PENDING_APPROVAL:  # decided, or it lapsed
            raise ApprovalError(
                f"{booking.reference} is no longer waiting for approval "
                f"({status_label(booking.status)})."
            )
        raise ApprovalError("This approval link has already been used.")
    session.refresh(booking)
    dep = booking.departure
    if approve:
        bookings.confirm_booking(
            session,
            org,
            booking,
            now,
            actor=actor,
            source=source,
            reason="approved by the owner",
        )
        voice = customer_voice(org, booking.customer)
        facts = {
            "reference": booking.reference,
            "tour": dep.tour.name,
            "when": voice.when(dep.starts_at),
            "deposit": voice.money(booking.deposit_minor, booking.currency),
            "link": payments.pay_url(booking, base_url),
        }
        _, template = notify.purpose_template(
            session, org, voice, booking.customer, "approval_confirmed", facts
        )
        notify.to_customer(
            session,
            org,
            booking.customer,
            voice._(
                "Good news: {reference} is confirmed! {tour}, {when}.\n"
                "Pay the deposit ({deposit}) here: {link}",
                **facts,
            ),
            now,
            template=template,
            reference=booking.reference,
        )
        notify.to_staff(session, org, org.owner_phone, f"✓ {booking.reference} confirmed.", now)
        return f"{booking.reference} is confirmed and the customer has been told."
    bookings.cancel_and_free_seats(
        session, org, booking, now, reason="declined by the owner", actor=actor, source=source
    )
    options = availability.alternatives(session, org, dep, booking.party, now, limit=3)
    voice = customer_voice(org, booking.customer)
    lines = [
        voice._(
            "Sorry, we can't take {reference} ({tour}, {when}).",
            reference=booking.reference,
            tour=dep.tour.name,
            when=voice.when(dep.starts_at),
        )
    ]
    if options:
        lines.append(
            voice._(
                "We do have room on: {dates}",
                dates="; ".join(voice.when(o.departure.starts_at) for o in options),
            )
        )
        lines.append(voice._("Reply with the date you'd like and we'll hold it."))
    _, template = notify.purpose_template(
        session,
        org,
        voice,
        booking.customer,
        "approval_declined",
        {"reference": booking.reference, "tour": dep.tour.name, "when": voice.when(dep.starts_at)},
    )
    notify.to_customer(
        session,
        org,
        booking.customer,
        "\n".join(lines),
        now,
        template=template,
        reference=booking.reference,
    )
    timeline.record(session, booking, "approval.declined", actor=actor, source=source, at=now)
    return (
        f"{booking.reference} is declined; the seats are free again and the customer has been "
        "offered other dates."
    )


def tell_timed_out(session: Session, org: Organization, booking: Booking, now: datetime) -> None:
    """Called by the sweep for a PENDING_APPROVAL booking it expired."""
    booking.approval_nonce = None
    phone = org.settings.support_phone or org.owner_phone or ""
    voice = customer_voice(org, booking.customer)
    notify.to_customer(
        session,
        org,
        booking.customer,
        voice._(
            "Sorry, we couldn't confirm {reference} in time, so the seats were released. "
            "Please call us on {phone} and we'll sort it out.",
            reference=booking.reference,
            phone=phone,
        )
        if phone
        else voice._(
            "Sorry, we couldn't confirm {reference} in time, so the seats were released. "
            "Please call us.",
            reference=booking.reference,
        ),
        now,
        reference=booking.reference,
    )
