"""Incidents: open ones first with severity and age; updates to the guide and, by choice,
to the customers; resolve."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from admin import admin_bp
from admin.actions import form_text, run
from admin.auth import current_org, requires, scoped, staff
from extensions import db
from models import Departure, Incident, IncidentStatus, utcnow
from services import incidents
from services import staff as staff_service

SEVERITY_ORDER = case((Incident.severity == "high", 0), (Incident.severity == "medium", 1), else_=2)


def _incident(incident_id: int) -> Incident:
    return scoped(db.session.get(Incident, incident_id))  # type: ignore[no-any-return]


@admin_bp.get("/incidents")
@requires()
def incident_list() -> ResponseReturnValue:
    rows = list(
        db.session.scalars(
            select(Incident)
            .options(
                joinedload(Incident.departure).joinedload(Departure.tour),
                joinedload(Incident.guide),
            )
            .where(Incident.organization_id == current_org().id)
            .order_by(
                case((Incident.status == IncidentStatus.OPEN, 0), else_=1),
                SEVERITY_ORDER,
                Incident.opened_at.desc(),
            )
            .limit(200)
        )
    )
    return render_template("admin/incidents.html", incidents=rows, now=utcnow())


@admin_bp.get("/incidents/<int:incident_id>")
@requires()
def incident_page(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    return render_template(
        "admin/incident.html",
        incident=incident,
        can_run=staff_service.can(staff(), "incidents"),
        now=utcnow(),
    )


@admin_bp.post("/incidents/<int:incident_id>/update")
@requires("incidents")
def incident_update(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    text = form_text("text", 1000)
    if not text:
        abort(400, "Write the update first.")
    tell = bool(form_text("tell_customers"))
    return run(
        lambda: incidents.ops_update(
            db.session,
            current_org(),
            incident,
            text,
            utcnow(),
            staff_id=staff().id,
            tell_customers=tell,
        ),
        "Update sent to the guide" + (" and the customers." if tell else "."),
        url_for("admin.incident_page", incident_id=incident.id),
    )


@admin_bp.post("/incidents/<int:incident_id>/resolve")
@requires("incidents")
def incident_resolve(incident_id: int) -> ResponseReturnValue:
    incident = _incident(incident_id)
    return run(
        lambda: incidents.resolve_by_ops(
            db.session,
            current_org(),
            incident,
            form_text("note", 500),
            utcnow(),
            staff_id=staff().id,
        ),
        f"{incident.number} resolved.",
        url_for("admin.incident_page", incident_id=incident.id),
    )
