"""Who can get in, for owners only: staff accounts (deactivate, reactivate) and the JSON
API's tokens (create with an expiry, revoke). Adding staff and changing roles is
`flask users create` for now."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, url_for
from flask.typing import ResponseReturnValue

from admin import admin_bp
from admin.actions import form_int, form_text, run
from admin.auth import current_org, requires, scoped, staff
from extensions import db
from models import StaffUser, utcnow
from services import api_tokens
from services import staff as staff_service
from services.errors import ServiceError


def _page(
    new_token: str | None = None, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    org = current_org()
    return render_template(
        "admin/access.html",
        people=staff_service.everyone_of(db.session, org),
        tokens=api_tokens.tokens_of(db.session, org),
        me=staff(),
        new_token=new_token,
        error=error,
        now=utcnow(),
    ), status


@admin_bp.get("/access")
@requires("access")
def access_page() -> ResponseReturnValue:
    return _page()


def _person(user_id: int) -> StaffUser:
    return scoped(db.session.get(StaffUser, user_id))  # type: ignore[no-any-return]


@admin_bp.post("/access/staff/<int:user_id>/deactivate")
@requires("access")
def staff_deactivate(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    return run(
        lambda: staff_service.deactivate(db.session, person, by=staff()),
        f"{person.name} can no longer log in, and was logged out everywhere.",
        url_for("admin.access_page"),
    )


@admin_bp.post("/access/staff/<int:user_id>/reactivate")
@requires("access")
def staff_reactivate(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    return run(
        lambda: staff_service.reactivate(person),
        f"{person.name} can log in again.",
        url_for("admin.access_page"),
    )


@admin_bp.post("/access/tokens")
@requires("access")
def token_create() -> ResponseReturnValue:
    days = form_int("expires_in_days", 365, low=0, high=3650)
    try:
        token = api_tokens.create_token(
            db.session,
            current_org(),
            utcnow(),
            form_text("name", 100) or "api",
            expires_in=timedelta(days=days) if days else None,
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _page(error=exc.message, status=400)
    # Shown in this response only (never in a flash, which lives in the session cookie).
    return _page(new_token=token)


@admin_bp.post("/access/tokens/<int:token_id>/revoke")
@requires("access")
def token_revoke(token_id: int) -> ResponseReturnValue:
    if token_id <= 0:
        abort(404)
    return run(
        lambda: api_tokens.revoke(db.session, current_org(), token_id, utcnow()),
        lambda row: f"Token {row.prefix}… revoked: it no longer works.",
        url_for("admin.access_page"),
    )
