"""Crisis tools: cancel several departures in one action (a stormy day, a tour over a range
of dates) with the message previewed as customers will read it, then the messages' progress
and the call list with its "called" ticks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from admin import admin_bp
from admin.actions import form_text, query_date
from admin.auth import actor, current_org, requires, staff
from extensions import db, job_queue, stripe_account
from models import Departure, DepartureCancellation, Tour, utcnow
from services import cancellations, crisis, outbox
from services.errors import NotFound, ServiceError
from services.i18n import Voice

REFUND_CHOICES = [
    ("full", "Full refund of what each customer paid (we cancelled)"),
    ("policy", "By the cancellation policy"),
    ("none", "No refund now (rebook or settle later; customers are told we'll be in touch)"),
]


def _tours() -> list[Tour]:
    return list(
        db.session.scalars(
            select(Tour).where(Tour.organization_id == current_org().id).order_by(Tour.name)
        )
    )


@admin_bp.get("/crisis")
@requires("departures")
def crisis_page() -> ResponseReturnValue:
    org = current_org()
    today = org.local(utcnow()).date()
    first = query_date("from", today)
    last = query_date("to", first)
    tours = _tours()
    slug = (request.args.get("tour") or "").strip()
    tour = next((t for t in tours if t.slug == slug), None)
    try:
        rows = crisis.departures_between(db.session, org, first, last, tour.id if tour else None)
    except ServiceError as exc:
        abort(400, exc.message)
    recent = db.session.execute(
        select(
            DepartureCancellation.batch,
            func.max(DepartureCancellation.cancelled_at),
            func.count(),
            func.sum(DepartureCancellation.people),
        )
        .where(
            DepartureCancellation.organization_id == org.id,
            DepartureCancellation.batch.is_not(None),
        )
        .group_by(DepartureCancellation.batch)
        .order_by(func.max(DepartureCancellation.cancelled_at).desc())
        .limit(5)
    ).all()
    return render_template(
        "admin/crisis.html",
        rows=rows,
        first=first,
        last=last,
        today=today,
        tours=tours,
        tour=tour,
        recent=recent,
        timedelta=timedelta,
    )


def _preview(rows: list[crisis.AtRisk], reason: str, refund: str) -> tuple[str, str | None]:
    """The message as the first paying customer (else the first customer) will read it, in
    English, and who that is."""
    org = current_org()
    voice = Voice(tz=org.tz)
    everyone = [
        (row, b) for row in rows for b in crisis.cancellable_bookings(db.session, row.departure)
    ]
    sample = next(((r, b) for r, b in everyone if b.paid_minor), everyone[0] if everyone else None)
    if sample is None:
        text = cancellations.cancellation_message(
            voice, rows[0].departure, reason, "BK-·····", paid_minor=None
        )
        return text, None
    row, b = sample
    back = {
        "full": b.paid_minor,
        "policy": cancellations.refund_quote(org, b, utcnow()).amount_minor,
    }.get(refund, 0)
    text = cancellations.cancellation_message(
        voice,
        row.departure,
        reason,
        b.reference,
        paid_minor=b.paid_minor,
        currency=b.currency,
        refunded_minor=back,
    )
    return text, f"{b.reference} ({b.customer.name or b.customer.phone})"


def _chosen(codes: list[str]) -> list[crisis.AtRisk]:
    try:
        return crisis.chosen(db.session, current_org(), codes)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        abort(400, exc.message)


@admin_bp.get("/crisis/cancel")
@requires("departures")
def crisis_confirm() -> ResponseReturnValue:
    codes = request.args.getlist("code")
    if not codes:
        flash("Tick at least one departure to cancel.", "error")
        back: dict[str, Any] = {
            k: request.args[k] for k in ("from", "to", "tour") if k in request.args
        }
        return redirect(url_for("admin.crisis_page", **back), code=303)
    rows = _chosen(codes)
    reason = (request.args.get("reason") or "").replace("\x00", "")[:300] or "bad weather"
    refund = request.args.get("refund") or "full"
    if refund not in cancellations.REFUND_RULES:
        abort(400, "Choose a refund rule.")
    text, as_who = _preview(rows, reason, refund)
    return render_template(
        "admin/crisis_cancel.html",
        rows=rows,
        reason=reason,
        refund=refund,
        refund_choices=REFUND_CHOICES,
        preview=text,
        preview_as=as_who,
        own_default=(
            "We're sorry: {tour} on {when} is cancelled (" + reason + "). Your booking "
            "{reference} is cancelled and {refund} is being refunded. Reply to choose "
            "another date."
        ),
        bookings=sum(r.bookings for r in rows),
        people=sum(r.people for r in rows),
        paid=sum(r.paid_minor for r in rows),
        guides=len({r.departure.guide_id for r in rows if r.departure.guide_id}),
    )


@admin_bp.get("/crisis/preview")
@requires("departures")
def crisis_preview() -> ResponseReturnValue:
    """The default message for the reason and refund rule being typed (the page's preview
    follows the form)."""
    rows = _chosen(request.args.getlist("code"))
    reason = (request.args.get("reason") or "").replace("\x00", "")[:300]
    refund = request.args.get("refund") or "full"
    if refund not in cancellations.REFUND_RULES:
        abort(400, "Choose a refund rule.")
    text, as_who = _preview(rows, reason or "…", refund)
    return jsonify(text=text, as_who=as_who)


@admin_bp.post("/crisis/cancel")
@requires("departures")
def crisis_cancel() -> ResponseReturnValue:
    codes = request.form.getlist("code")
    reason = form_text("reason", 300)
    refund = form_text("refund", 10) or "full"
    own = form_text("message", 1600) if request.form.get("own") == "1" else None
    back = url_for("admin.crisis_confirm", code=codes, reason=reason, refund=refund)
    try:
        batch = crisis.cancel_many(
            db.session,
            current_org(),
            codes,
            reason,
            utcnow(),
            stripe=stripe_account(),
            actor=actor(),
            refund=refund,
            own_message=own,
        )
        records = crisis.records_of_batch(db.session, current_org(), batch)
        outbox.commit_and_send(db.session, job_queue())
    except NotFound:
        db.session.rollback()
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back, code=303)
    people = sum(r.people for r in records)
    flash(
        f"{len(records)} departure{'s' if len(records) != 1 else ''} cancelled: "
        f"{sum(r.bookings_cancelled for r in records)} bookings, {people} people told.",
        "success",
    )
    return redirect(url_for("admin.crisis_progress", batch=batch), code=303)


def _records(batch: str) -> list[DepartureCancellation]:
    if not batch.isalnum() or len(batch) > 16:
        abort(404)
    try:
        return crisis.records_of_batch(db.session, current_org(), batch)
    except NotFound:
        abort(404)


@admin_bp.get("/crisis/<batch>")
@requires()
def crisis_progress(batch: str) -> ResponseReturnValue:
    records = _records(batch)
    return render_template(
        "admin/crisis_progress.html",
        batch=batch,
        progress=crisis.progress(db.session, current_org(), records),
        now=utcnow(),
    )


@admin_bp.post("/departures/<code>/cancellation/called")
@requires()
def departure_called(code: str) -> ResponseReturnValue:
    """Anyone on the team may make the calls: ticks (or unticks) a person on a cancelled
    departure's call list."""
    org = current_org()
    record = db.session.scalar(
        select(DepartureCancellation)
        .join(Departure, Departure.id == DepartureCancellation.departure_id)
        .where(Departure.organization_id == org.id, Departure.code == code)
    )
    if record is None:
        abort(404)
    phone = form_text("phone", 20)
    if not phone:
        abort(400, "Which phone number was called?")
    crisis.mark_called(
        record, phone, staff().name, utcnow(), called=request.form.get("called") != "0"
    )
    db.session.commit()
    batch = form_text("batch", 16)
    if batch and batch == record.batch:
        back = url_for("admin.crisis_progress", batch=batch)
    else:
        back = url_for("admin.departure_cancellation", code=code)
    return redirect(back + "#call-list", code=303)
