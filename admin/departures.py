"""Departures: the board, a departure with its manifest, guide assignment, cancellation
with its progress and call list."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from admin import admin_bp
from admin.actions import form_int, form_text, query_date, run
from admin.auth import actor, current_org, requires, scoped, staff
from extensions import db, stripe_account
from models import (
    Booking,
    Departure,
    DepartureCancellation,
    DepartureStatus,
    Guide,
    GuideAssignment,
    Incident,
    utcnow,
)
from services import (
    assignments,
    cancellations,
    crisis,
    inventory,
    reports,
    timeline,
)
from services import (
    staff as staff_service,
)
from services.i18n import Voice
from services.manifest import CHECK_IN_OPENS, check_in
from services.manifest import manifest as guest_manifest

MAX_DAYS = 62


def _departure(code: str) -> Departure:
    dep = db.session.scalar(
        select(Departure).where(
            Departure.code == code, Departure.organization_id == current_org().id
        )
    )
    return scoped(dep)  # type: ignore[no-any-return]


@admin_bp.get("/departures")
@requires()
def departure_list() -> ResponseReturnValue:
    org = current_org()
    now = utcnow()
    today = org.local(now).date()
    first = query_date("from", today)
    last = query_date("to", first + timedelta(days=13))
    if last < first or (last - first).days > MAX_DAYS:
        abort(400, f"Choose at most {MAX_DAYS} days, ending after they start.")
    rows = reports.departure_board(db.session, org, first, last, now)
    return render_template("admin/departures.html", rows=rows, first=first, last=last, now=now)


@admin_bp.get("/departures/<code>")
@requires()
def departure_page(code: str) -> ResponseReturnValue:
    org = current_org()
    dep = _departure(code)
    now = utcnow()
    manifest = guest_manifest(db.session, dep)
    runs_later = dep.status in (DepartureStatus.OPEN, DepartureStatus.CLOSED)
    guide_options = (
        assignments.guide_options(db.session, org, dep, exclude=dep.guide) if runs_later else []
    )
    return render_template(
        "admin/departure.html",
        dep=dep,
        occ=inventory.occupancy(db.session, dep, now),
        waiting=reports.waitlist_counts(db.session, [dep.id]).get(dep.id, 0),
        manifest=manifest,
        guide_options=guide_options,
        guide_choices=[o.guide for o in guide_options if o.free],
        pending=assignments.pending_offer(db.session, dep),
        runs_later=runs_later,
        offers=list(
            db.session.scalars(
                select(GuideAssignment)
                .where(GuideAssignment.departure_id == dep.id)
                .order_by(GuideAssignment.id.desc())
            )
        ),
        incidents=list(
            db.session.scalars(
                select(Incident).where(Incident.departure_id == dep.id).order_by(Incident.id)
            )
        ),
        cancellation=db.session.scalar(
            select(DepartureCancellation).where(DepartureCancellation.departure_id == dep.id)
        ),
        events=timeline.events_for(db.session, org.id, dep.code),
        can_run=staff_service.can(staff(), "departures"),
        check_in_open=dep.status not in (DepartureStatus.CANCELLED, DepartureStatus.COMPLETED)
        and now >= dep.starts_at - CHECK_IN_OPENS,
        now=now,
    )


@admin_bp.post("/departures/<code>/check-in")
@requires("departures")
def departure_check_in(code: str) -> ResponseReturnValue:
    """A booking's guests at the meeting point, from the manifest (on a phone)."""
    org = current_org()
    dep = _departure(code)
    booking = scoped(
        db.session.scalar(
            select(Booking).where(
                Booking.organization_id == org.id,
                Booking.departure_id == dep.id,
                Booking.reference == form_text("booking", 16).upper(),
            )
        )
    )
    guests = form_int("guests", booking.seats, low=0, high=500)
    assert guests is not None

    def said(b: Booking) -> str:
        if not b.checked_in_guests:
            return f"{b.reference}: nobody checked in."
        return f"{b.reference}: {b.checked_in_guests} of {b.seats} checked in."

    return run(
        lambda: check_in(db.session, booking, guests, staff(), utcnow()),
        said,
        url_for("admin.departure_page", code=dep.code) + "#manifest",
    )


@admin_bp.get("/departures/<code>/manifest")
@requires()
def departure_manifest(code: str) -> ResponseReturnValue:
    dep = _departure(code)
    return render_template(
        "admin/manifest.html",
        dep=dep,
        manifest=guest_manifest(db.session, dep),
        now=utcnow(),
    )


@admin_bp.post("/departures/<code>/guide")
@requires("departures")
def departure_guide(code: str) -> ResponseReturnValue:
    org = current_org()
    dep = _departure(code)
    guide = scoped(db.session.get(Guide, form_int("guide", 0, low=0, high=2**31 - 1)))
    reason = form_text("reason", 300)

    def assign() -> GuideAssignment:
        if dep.guide is None:
            return assignments.offer_assignment(
                db.session, org, dep, guide, utcnow(), actor=actor()
            )
        return assignments.replace_guide(
            db.session, org, dep, guide, utcnow(), reason=reason, actor=actor()
        )

    return run(
        assign,
        f"Offered to {guide.name}; they reply ACCEPT or DECLINE.",
        url_for("admin.departure_page", code=dep.code),
    )


def _guide_from_form() -> Guide:
    return scoped(db.session.get(Guide, form_int("guide", 0, low=0, high=2**31 - 1)))  # type: ignore[no-any-return]


@admin_bp.post("/departures/<code>/guide/assign")
@requires("departures")
def departure_guide_assign(code: str) -> ResponseReturnValue:
    """Assign at once (agreed with the guide by phone): no ACCEPT awaited."""
    dep = _departure(code)
    guide = _guide_from_form()
    return run(
        lambda: assignments.assign_directly(
            db.session,
            current_org(),
            dep,
            guide,
            utcnow(),
            reason=form_text("reason", 300),
            actor=actor(),
        ),
        f"{guide.name} is now the guide of {dep.code} and has been sent the details.",
        url_for("admin.departure_page", code=dep.code),
    )


@admin_bp.post("/departures/<code>/guide/release")
@requires("departures")
def departure_guide_release(code: str) -> ResponseReturnValue:
    dep = _departure(code)
    return run(
        lambda: assignments.release_guide(
            db.session,
            current_org(),
            dep,
            utcnow(),
            reason=form_text("reason", 300),
            actor=actor(),
        ),
        lambda guide: f"{guide.name} released and told." if guide else "Nobody to release.",
        url_for("admin.departure_page", code=dep.code),
    )


@admin_bp.get("/departures/<code>/cancel")
@requires("departures")
def departure_cancel_form(code: str) -> ResponseReturnValue:
    dep = _departure(code)
    bookings, people = cancellations.affected(db.session, dep)
    reason = request.args.get("reason", "")[:300] or "bad weather"
    return render_template(
        "admin/cancel_departure.html",
        dep=dep,
        people=people,
        bookings=bookings,
        reason=reason,
        # In English: staff read what each guest is told, in the guest's own language.
        message=cancellations.cancellation_message(
            Voice(tz=current_org().tz), dep, reason, "BK-·····", paid_minor=None
        ),
    )


@admin_bp.post("/departures/<code>/cancel")
@requires("departures")
def departure_cancel(code: str) -> ResponseReturnValue:
    dep = _departure(code)
    reason = form_text("reason", 300)
    if not reason:
        abort(400, "Say why the departure is cancelled; customers are told.")
    if request.form.get("confirm") != dep.code:
        abort(400, f"Type the departure code ({dep.code}) to confirm.")
    return run(
        lambda: cancellations.cancel_departure(
            db.session, current_org(), dep, reason, utcnow(), stripe=stripe_account(), actor=actor()
        ),
        lambda record: (
            f"{dep.code} cancelled: {record.bookings_cancelled} bookings, {record.people} people."
        ),
        url_for("admin.departure_cancellation", code=dep.code),
    )


@admin_bp.get("/departures/<code>/cancellation")
@requires()
def departure_cancellation(code: str) -> ResponseReturnValue:
    dep = _departure(code)
    record = db.session.scalar(
        select(DepartureCancellation).where(DepartureCancellation.departure_id == dep.id)
    )
    if record is None:
        abort(404)
    return render_template(
        "admin/crisis_progress.html",
        batch=None,
        progress=crisis.progress(db.session, current_org(), [record]),
        now=utcnow(),
    )
