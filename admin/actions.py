"""Running a staff action: call the service, commit (sending the messages it queued), and
tell the user in a flash message; a refusal rolls back and is shown as it is. Never a stack
trace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, request
from flask.typing import ResponseReturnValue

from extensions import db, job_queue
from services import outbox
from services.errors import NotFound, ServiceError


def run(
    action: Callable[[], Any],
    done: str | Callable[[Any], str],
    back: str,
    *,
    then: Callable[[Any], str] | None = None,
) -> ResponseReturnValue:
    """back: where a refusal (and, without `then`, success) goes; then(result): where
    success goes when that depends on what was made (a new booking's page)."""
    try:
        result = action()
        outbox.commit_and_send(db.session, job_queue())
    except NotFound:
        db.session.rollback()
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back, code=303)
    flash(done(result) if callable(done) else done, "success")
    return redirect(then(result) if then else back, code=303)


def form_text(name: str, limit: int = 4000) -> str:
    return (request.form.get(name) or "").replace("\x00", "").strip()[:limit]


def form_int(
    name: str, default: int | None = None, *, low: int = 0, high: int = 10_000
) -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return default
    # int() also takes "1_0" and digits of other scripts; a form field takes 0-9 only.
    if not raw.removeprefix("-").isascii() or not raw.removeprefix("-").isdigit():
        abort(400, f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        abort(400, f"{name} must be between {low} and {high}")
    return value


def query_date(name: str, default: date) -> date:
    """A day in the query string (?from=2027-01-31), the same on every admin page that takes
    one; anything else, years outside 1900-9000 included, is a 400 in words."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name} must be a date like 2027-01-31")
    if not date(1900, 1, 1) <= value <= date(9000, 12, 31):
        abort(400, f"{name} must be a date between 1900 and 9000")
    return value
