"""The read-only JSON API (/api/v1, bearer token per organization) and /health."""

from api.health import health_bp
from api.views import api_bp

__all__ = ["api_bp", "health_bp"]
