"""Inbound webhooks: Twilio (messages, delivery statuses) and Stripe (payments)."""

from webhooks.stripe import stripe_bp
from webhooks.twilio import twilio_bp

__all__ = ["stripe_bp", "twilio_bp"]
