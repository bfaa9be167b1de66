"""POST /webhooks/stripe: Stripe's events, verified with stripe.Webhook.construct_event
(403 on a missing or wrong signature, nothing changed), each applied once.

A signed event that is not shaped as Stripe's events are (no type, an object that is not
an object, a NUL byte, an amount that is not a number) is refused with 400 and changes
nothing: it was a 500 with a half-read event in the log."""

from __future__ import annotations

import logging
from typing import Any

import stripe
from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DataError, StatementError

from extensions import (
    app_config,
    db,
    job_queue,
    rate_counter,
    retry_on_lost_connection,
    stripe_account,
)
from models import utcnow
from services import outbox, settlement

log = logging.getLogger(__name__)

stripe_bp = Blueprint("stripe", __name__)

# What handling an event raises when one of its fields has the wrong type or is missing.
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


def _malformed(message: str, event: dict[str, Any] | None = None, detail: str = "") -> Response:
    ident = event.get("id") if isinstance(event, dict) else None
    log.warning("refused a signed Stripe event %.60r: %s %s", ident, message, detail[:300])
    return Response(f"malformed event: {message}", status=400, mimetype="text/plain")


def _shape_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with the event's envelope, or None."""
    if not isinstance(event.get("id"), str) or not 0 < len(event["id"]) <= 255:
        return "id is not a string"
    if not isinstance(event.get("type"), str) or not 0 < len(event["type"]) <= 100:
        return "type is not a string"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "data.object is not an object"
    obj = data["object"]
    for key in ("id", "payment_intent"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"data.object.{key} is not a string"
    metadata = obj.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        return "data.object.metadata is not a map of strings"
    return None


@stripe_bp.post("/stripe")
@retry_on_lost_connection
def stripe_event() -> Response:
    secret = app_config().STRIPE_WEBHOOK_SECRET
    if not secret:
        return Response("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)", status=404)
    payload = request.get_data(as_text=True)
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature"), secret
        )
    except (ValueError, stripe.SignatureVerificationError):
        log.warning("refused a Stripe webhook with a missing or wrong signature")
        return Response("forbidden", status=403, mimetype="text/plain")
    except _MALFORMED:  # signed, but JSON that is not an event object ([], "x")
        return _malformed("not an event object")
    if "\\u0000" in payload or "\x00" in payload:  # PostgreSQL cannot store or compare one
        return _malformed("a NUL byte in a value")
    data = event.to_dict() if hasattr(event, "to_dict") else None
    if not isinstance(data, dict):
        return _malformed("not an event object")
    if problem := _shape_problem(data):
        return _malformed(problem, data)
    try:
        outcome = settlement.handle_stripe_event(
            db.session,
            data,
            utcnow(),
            stripe_account(),
            rate_counter(),
            base_url=app_config().PUBLIC_BASE_URL,
        )
        db.session.flush()  # a value the database refuses shows here, inside the try
    except (*_MALFORMED, DataError) as exc:
        db.session.rollback()
        return _malformed("a field of the wrong type", data, f"{type(exc).__name__}: {exc}")
    except StatementError as exc:
        # A value the database driver refused before sending it; anything else (a lost
        # connection, which retry_on_lost_connection retries) is not the event's fault.
        if not isinstance(exc.orig, _MALFORMED):
            raise
        db.session.rollback()
        return _malformed("a field of the wrong type", data, f"{type(exc.orig).__name__}")
    outbox.commit_and_send(db.session, job_queue())  # the customer's confirmation, say
    return jsonify(received=True, outcome=outcome)
