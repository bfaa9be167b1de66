"""Public pages opened from a message: paying for a hold, and the owner's approval link."""

from pages.approve import approve_bp
from pages.pay import pay_bp

__all__ = ["approve_bp", "pay_bp"]
