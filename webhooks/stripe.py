"""POST /webhooks/stripe: Stripe's events, verified with stripe.Webhook.construct_event
(403 on a missing or wrong signature, nothing changed), each applied once."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, Response, current_app, jsonify, request

from extensions import db, job_queue, retry_on_lost_connection
from models import utcnow
from services import outbox, payments

log = logging.getLogger(__name__)

stripe_bp = Blueprint("stripe", __name__)


@stripe_bp.post("/stripe")
@retry_on_lost_connection
def stripe_event() -> Response:
    secret = current_app.config["APP_CONFIG"].STRIPE_WEBHOOK_SECRET
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
    outcome = payments.handle_stripe_event(db.session, event.to_dict(), utcnow())
    outbox.commit_and_send(db.session, job_queue())  # the customer's confirmation, say
    return jsonify(received=True, outcome=outcome)
