"""Public pages customers open from a message: paying for a hold (approval comes later)."""

from pages.pay import pay_bp

__all__ = ["pay_bp"]
