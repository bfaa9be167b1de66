"""Guides: who leads which tours, the languages the bot writes to them in, their coming
trips and their time off (days off, a few hours), which offers and direct assignments
respect. Opened from the departures board and a departure's guide; no menu item (the top
bar is full)."""

from __future__ import annotations

from datetime import date, time, timedelta

from flask import abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import Field, FieldList, StringField, ValidationError

from admin import admin_bp
from admin.actions import form_text, run
from admin.auth import current_org, requires, scoped, staff
from extensions import db
from models import (
    AssignmentStatus,
    Departure,
    DepartureStatus,
    Guide,
    GuideAssignment,
    GuideTimeOff,
    utcnow,
)
from services import assignments, guides
from services.i18n import SUPPORTED_LANGUAGES
from services.notify import local_time

COMING_DAYS = 30
# One choice per place in the guide's order of preference: as many as the bot speaks.
LANGUAGE_PLACES = ("First", "Second", "Third", "Fourth", "Fifth")[: len(SUPPORTED_LANGUAGES)]


class GuideLanguagesForm(FlaskForm):
    """The guide's languages, one select per place in their order of preference (blank:
    none); posted as languages-0 ... languages-4 with the CSRF token."""

    languages = FieldList(
        # The page shows selects (templates/admin/guide.html); any value posted reaches
        # validate_languages, which refuses it in words (a SelectField's "Not a valid
        # choice" would not say which languages are).
        StringField(),
        min_entries=len(LANGUAGE_PLACES),
        max_entries=len(LANGUAGE_PLACES),
    )

    def validate_languages(self, field: Field) -> None:
        try:
            guides.checked_languages([str(code or "") for code in field.data])
        except guides.GuideError as exc:
            raise ValidationError(exc.message) from exc


def languages_said(guide_name: str, codes: list[str]) -> str:
    if not codes:
        return f"{guide_name} has no language set: the bot writes to them in English."
    names = [guides.language_name(code) for code in codes]
    rest = f" (also speaks {', '.join(names[1:])})" if names[1:] else ""
    return f"The bot writes to {guide_name} in {names[0]}{rest}."


def _guide(guide_id: int) -> Guide:
    return scoped(db.session.get(Guide, guide_id))  # type: ignore[no-any-return]


@admin_bp.get("/guides")
@requires()
def guide_list() -> ResponseReturnValue:
    org = current_org()
    now = utcnow()
    guides = list(
        db.session.scalars(
            select(Guide)
            .options(selectinload(Guide.tours))
            .where(Guide.organization_id == org.id)
            .order_by(Guide.active.desc(), Guide.name)
        )
    )
    off: dict[int, GuideTimeOff] = {}
    for t in db.session.scalars(
        select(GuideTimeOff)
        .where(GuideTimeOff.organization_id == org.id, GuideTimeOff.ends_at > now)
        .order_by(GuideTimeOff.starts_at.desc())
    ):
        off[t.guide_id] = t  # the soonest wins (read last)
    return render_template(
        "admin/guides.html",
        guides=guides,
        off={gid: assignments.describe_time_off(org, t) for gid, t in off.items()},
        off_now={gid for gid, t in off.items() if t.starts_at <= now},
    )


@admin_bp.get("/guides/<int:guide_id>")
@requires()
def guide_page(guide_id: int) -> ResponseReturnValue:
    return _guide_page(_guide(guide_id))


def _guide_page(
    guide: Guide, *, chosen: list[str] | None = None, error: str | None = None
) -> ResponseReturnValue:
    """chosen, error: languages posted and refused, shown again as chosen with the reason."""
    org = current_org()
    now = utcnow()
    live = (DepartureStatus.OPEN, DepartureStatus.CLOSED, DepartureStatus.STARTED)
    offered = select(GuideAssignment.departure_id).where(
        GuideAssignment.guide_id == guide.id, GuideAssignment.status == AssignmentStatus.OFFERED
    )
    coming = list(
        db.session.scalars(
            select(Departure)
            .where(
                Departure.organization_id == org.id,
                (Departure.guide_id == guide.id) | Departure.id.in_(offered),
                Departure.status.in_(live),
                Departure.ends_at > now,
                Departure.starts_at < now + timedelta(days=COMING_DAYS),
            )
            .order_by(Departure.starts_at)
        )
    )
    time_off = assignments.guide_time_off(db.session, guide, now)
    today = org.local(now).date()
    return render_template(
        "admin/guide.html",
        guide=guide,
        language_places=LANGUAGE_PLACES,
        language_choices=guides.language_choices(),
        languages_said=languages_said(guide.name, list(guide.languages or [])),
        languages_chosen=chosen if chosen is not None else list(guide.languages or []),
        languages_error=error,
        coming=coming,
        coming_days=COMING_DAYS,
        time_off=[(t, assignments.describe_time_off(org, t)) for t in time_off],
        clashes={
            d.id
            for d in coming
            for t in time_off
            if t.starts_at < d.ends_at and t.ends_at > d.starts_at
        },
        today=today,
        now=now,
    ), (400 if error else 200)


@admin_bp.post("/guides/<int:guide_id>/languages")
@requires("departures")
def guide_languages(guide_id: int) -> ResponseReturnValue:
    guide = _guide(guide_id)
    back = url_for("admin.guide_page", guide_id=guide.id) + "#languages"
    form = GuideLanguagesForm()
    if not form.validate_on_submit():
        # The page again with the choices as made, and why they are refused.
        errors = [e for field_errors in form.errors.values() for e in field_errors if e]
        return _guide_page(
            guide,
            chosen=[str(code or "") for code in form.languages.data],
            error=str(errors[0]) if errors else "Those languages could not be read.",
        )

    def done(codes: list[str]) -> str:
        said = languages_said(guide.name, codes)
        waiting = guides.offer_template_pending(db.session, current_org(), guide)
        if waiting:
            said += (
                f" Until WhatsApp approves the {guides.language_name(waiting)} template for "
                "trip offers (made by `flask whatsapp sync`), an offer reaching them outside "
                "the 24-hour WhatsApp window goes in the next of their languages approved, or "
                "English."
            )
        return said

    return run(
        lambda: guides.set_languages(db.session, guide, [c or "" for c in form.languages.data]),
        done,
        back,
    )


def _day(name: str, default: date | None = None) -> date:
    raw = (request.form.get(name) or "").strip()
    if not raw and default is not None:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name} must be a date like 2027-01-31")
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        abort(400, f"{name} must be a date between 2000 and 2100")
    return value


def _time(name: str) -> time | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name} must be a time like 09:30")


@admin_bp.post("/guides/<int:guide_id>/time-off")
@requires("departures")
def guide_time_off_add(guide_id: int) -> ResponseReturnValue:
    org = current_org()
    guide = _guide(guide_id)
    first = _day("first")
    span = assignments.time_off_span(org, first, _day("last", first), _time("start"), _time("end"))
    back = url_for("admin.guide_page", guide_id=guide.id)

    def done(result: tuple[GuideTimeOff, list[Departure]]) -> str:
        off, affected = result
        said = f"{guide.name} is {assignments.describe_time_off(org, off)}."
        if affected:
            trips = ", ".join(f"{d.code} ({local_time(org, d.starts_at)})" for d in affected)
            flash(
                f"Still {guide.name}'s in that time: {trips}. Replace them on each "
                "departure's page.",
                "error",
            )
        return said

    return run(
        lambda: assignments.add_time_off(
            db.session,
            org,
            guide,
            *span,
            utcnow(),
            reason=form_text("reason", 200),
            staff_id=staff().id,
        ),
        done,
        back,
    )


@admin_bp.post("/guides/<int:guide_id>/time-off/<int:off_id>/delete")
@requires("departures")
def guide_time_off_delete(guide_id: int, off_id: int) -> ResponseReturnValue:
    org = current_org()
    guide = _guide(guide_id)
    off: GuideTimeOff = scoped(db.session.get(GuideTimeOff, off_id))
    if off.guide_id != guide.id:
        abort(404)
    said = assignments.describe_time_off(org, off).removeprefix("off ")
    return run(
        lambda: assignments.remove_time_off(db.session, off),
        f"{guide.name}: removed the time off ({said}).",
        url_for("admin.guide_page", guide_id=guide.id),
    )
