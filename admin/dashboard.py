"""The owner's day at a glance."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from admin import admin_bp
from admin.auth import current_org, requires
from extensions import db
from models import utcnow
from services import reports


@admin_bp.get("/")
@requires()
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    return render_template(
        "admin/dashboard.html", board=reports.dashboard(db.session, current_org(), now), now=now
    )
