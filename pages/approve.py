"""/approve/<token>: the owner's link. No login: the signed, expiring, single-use token is
the credential, so it never reaches a log (see log_redaction.py). The buttons POST with
a CSRF token."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from extensions import app_config, db, job_queue
from models import Booking, Organization, utcnow
from services import approvals, outbox
from services.errors import ServiceError
from services.money import format_money
from services.notify import local_time

approve_bp = Blueprint("approve", __name__)

# Long enough for any organization's approval_timeout_hours; each booking's own deadline is
# its hold expiry, which the sweep enforces.
MAX_LINK_AGE_HOURS = 24 * 7


def _booking(token: str) -> Booking:
    return approvals.booking_for_token(
        db.session, token, secret=app_config().signing_key, max_age_hours=MAX_LINK_AGE_HOURS
    )


@approve_bp.route("/approve/<token>", methods=["GET", "POST"])
def approve(token: str) -> ResponseReturnValue:
    try:
        booking = _booking(token)
    except ServiceError as exc:
        return render_template(
            "pay/message.html", title="Link not usable", message=exc.message
        ), exc.http_status
    org = db.session.get(Organization, booking.organization_id)
    assert org is not None  # a booking's organization is never deleted
    if request.method == "GET":
        dep = booking.departure
        return render_template(
            "approve.html",
            booking=booking,
            tour=dep.tour,
            when=local_time(org, dep.starts_at),
            deadline=local_time(org, booking.hold_expires_at or dep.starts_at),
            total=format_money(booking.total_minor, booking.currency),
        )
    action = request.form.get("action")
    if action not in ("confirm", "decline"):
        return render_template(
            "pay/message.html", title="Choose", message="Confirm or decline."
        ), 400
    try:
        message = approvals.decide(
            db.session,
            org,
            booking,
            action == "confirm",
            utcnow(),
            base_url=app_config().PUBLIC_BASE_URL,
            nonce=booking.approval_nonce,  # the one the link carries (checked above)
        )
    except ServiceError as exc:
        # A late click: the hold ran out before the owner decided and its seats went to
        # someone else, say. Nothing is changed, and the owner is told why (it was a 500).
        db.session.rollback()
        return render_template(
            "pay/message.html", title="Not confirmed", message=exc.message
        ), exc.http_status if exc.http_status >= 400 else 409
    outbox.commit_and_send(db.session, job_queue())  # the customer hears either way
    return render_template("pay/message.html", title="Done", message=message)
