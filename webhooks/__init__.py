"""Inbound webhooks from Twilio (messages, delivery statuses). Stripe comes later."""

from webhooks.twilio import twilio_bp

__all__ = ["twilio_bp"]
