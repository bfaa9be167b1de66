"""Who is asking: login with hashed passwords (Flask-Login), sessions that expire, roles,
and the organization every admin query is scoped to. A user of one organization asking
for another's object gets 404, exactly as for an id that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from admin import admin_bp
from extensions import db, rate_counter
from models import Organization, StaffUser
from services import ratelimit
from services import staff as staff_service

# However active the user, a login lasts at most this long; idle sessions end sooner
# (PERMANENT_SESSION_LIFETIME in config.py).
ABSOLUTE_SESSION_LIMIT = timedelta(hours=24)

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please log in."
login_manager.session_protection = "strong"

F = TypeVar("F", bound=Callable[..., Any])


class StaffLogin:
    """The Flask-Login view of a StaffUser (kept apart from the model, which is plain
    SQLAlchemy and knows nothing of Flask)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: StaffUser) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)


@login_manager.user_loader
def _load_user(user_id: str) -> StaffLogin | None:
    logged_in_at = session.get("logged_in_at")
    if logged_in_at is None or datetime.now(UTC).timestamp() - logged_in_at > (
        ABSOLUTE_SESSION_LIMIT.total_seconds()
    ):
        return None
    try:
        user = db.session.get(StaffUser, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    if session.get("generation") != user.session_generation:
        return None  # logged out (anywhere) or deactivated since this session began
    return StaffLogin(user)


def staff() -> StaffUser:
    return current_user.user  # type: ignore[no-any-return]


def current_org() -> Organization:
    if "staff_org" not in g:
        g.staff_org = db.session.get(Organization, staff().organization_id)
    return g.staff_org  # type: ignore[no-any-return]


def actor() -> str:
    return f"staff:{staff().id}"


def requires(action: str | None = None) -> Callable[[F], F]:
    """Login, and (if given) a role allowed to do `action` (services.staff.ROLE_CAN)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if action is not None and not staff_service.can(staff(), action):
                abort(403, f"Your role ({staff().role}) cannot do that.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def scoped(obj: Any) -> Any:
    """The object if it belongs to the user's organization; 404 otherwise (never 403, so
    ids of other organizations cannot be probed)."""
    if obj is None or getattr(obj, "organization_id", None) != current_org().id:
        abort(404)
    return obj


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an open redirect after login would be a phishing aid.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("admin.dashboard")


@admin_bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        # The client's own address: behind the proxy, ProxyFix (app.py) put it here from
        # the X-Forwarded-For entry our proxy wrote, so one guesser is not everybody.
        address = request.remote_addr or "unknown"
        # Counted before the password is checked, so that guesses sent all at once are
        # refused from the first one over the limit (checked first, 40 parallel guesses
        # had 17 passwords tried against a limit of 10); a right password is forgiven.
        counts = rate_counter()
        attempts = [
            (limit, subject, ratelimit.hit(limit, subject, counts))
            for limit, subject in (
                (ratelimit.LOGIN_PER_ACCOUNT, email),
                (ratelimit.LOGIN_PER_ADDRESS, address),
            )
        ]
        if any(count > limit.count for limit, _, count in attempts):
            flash("Too many failed logins. Wait 15 minutes, or ask an owner to help.", "error")
            return render_template("admin/login.html", form=form), 429
        user = staff_service.authenticate(db.session, email, form.password.data or "")
        if user is not None:
            for limit, subject, _ in attempts:
                ratelimit.forgive(limit, subject, counts)
            session.clear()
            session.permanent = True
            session["logged_in_at"] = datetime.now(UTC).timestamp()
            session["generation"] = user.session_generation
            login_user(StaffLogin(user))
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an active account.", "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form), 400 if form.errors else 200


@admin_bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    # Not only this cookie: a copy of it (another tab's, a stolen one) ends here too.
    staff_service.end_sessions(staff())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("admin.login"))
