"""Who can get in, for owners only: staff accounts (invite, change role, deactivate,
reactivate, a new sign-in link) and the JSON API's tokens (create with an expiry, revoke).
The invitation page, where an invited person sets their password, is public (its link is
signed and works once)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from admin import admin_bp
from admin.actions import form_int, form_text, run
from admin.auth import current_org, requires, scoped, staff
from extensions import app_config, db
from models import Role, StaffUser, utcnow
from services import api_tokens
from services import staff as staff_service
from services.errors import ServiceError


def _page(
    new_token: str | None = None,
    error: str | None = None,
    status: int = 200,
    invited: tuple[StaffUser, str] | None = None,
) -> ResponseReturnValue:
    org = current_org()
    return render_template(
        "admin/access.html",
        people=staff_service.everyone_of(db.session, org),
        tokens=api_tokens.tokens_of(db.session, org),
        me=staff(),
        new_token=new_token,
        invited=invited,
        roles=[r.value for r in Role],
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


def _invite_link(user: StaffUser) -> str:
    token = staff_service.invite_token(user, app_config().signing_key)
    return url_for("admin.invite_page", token=token, _external=True)


@admin_bp.post("/access/staff")
@requires("access")
def staff_invite() -> ResponseReturnValue:
    try:
        user = staff_service.invite(
            db.session,
            current_org(),
            email=form_text("email", 254),
            name=form_text("name", 200),
            role=form_text("role", 16),
            phone=form_text("phone", 40) or None,
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _page(error=exc.message, status=400)
    # The link is shown here once, for the owner to pass on; it is never stored or sent.
    return _page(invited=(user, _invite_link(user)))


@admin_bp.post("/access/staff/<int:user_id>/link")
@requires("access")
def staff_link(user_id: int) -> ResponseReturnValue:
    """A new link to set a password (a lost invitation, a forgotten password)."""
    person = _person(user_id)
    if person.id == staff().id:
        abort(400, "Change your own password by logging out and asking another owner.")
    if not person.active:
        return _page(error=f"{person.name} is deactivated; reactivate them first.", status=400)
    return _page(invited=(person, _invite_link(person)))


@admin_bp.post("/access/staff/<int:user_id>/role")
@requires("access")
def staff_role(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    role = form_text("role", 16)
    return run(
        lambda: staff_service.set_role(db.session, person, role, by=staff()),
        f"{person.name} is now {role}; they log in again to use it.",
        url_for("admin.access_page"),
    )


@admin_bp.route("/invite/<token>", methods=["GET", "POST"])
def invite_page(token: str) -> ResponseReturnValue:
    """Public: the invited person chooses a password (the link is signed and works once)."""
    try:
        person = staff_service.user_for_invite(db.session, token[:400], app_config().signing_key)
    except ServiceError as exc:
        return render_template("admin/invite.html", error=exc.message, person=None), 410
    if request.method == "POST":
        password = request.form.get("password") or ""
        if password != (request.form.get("confirm") or ""):
            error = "The two passwords differ."
        else:
            try:
                staff_service.set_password(person, password)
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                error = exc.message
            else:
                flash(f"Welcome, {person.name}: your password is set. Log in.", "success")
                return redirect(url_for("admin.login"), code=303)
        return render_template("admin/invite.html", error=error, person=person), 400
    return render_template("admin/invite.html", error=None, person=person)
