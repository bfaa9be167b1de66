"""GET /health: is the process up, can it reach its database (and Redis when configured).

To anyone, only "ok" (or 503 "unavailable"): a load balancer needs nothing more, and the
details (mode, counts, which part is down) are for the operators, who send
`Authorization: Bearer <HEALTH_TOKEN>`."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text

from extensions import app_config, db
from models import Departure, Organization

health_bp = Blueprint("health", __name__)


def _operator() -> bool:
    token = app_config().HEALTH_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token:
        return False
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@health_bp.get("/health")
def health() -> ResponseReturnValue:
    config = app_config()
    checks: dict[str, str] = {}
    status = 200
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        if _operator():
            checks["organizations"] = str(db.session.scalar(select(func.count(Organization.id))))
            checks["departures"] = str(db.session.scalar(select(func.count(Departure.id))))
    except Exception as exc:  # report, don't raise: this endpoint exists to say what is down
        checks["database"] = f"error: {type(exc).__name__}"
        status = 503
    if config.REDIS_URL:
        try:
            from redis import Redis

            Redis.from_url(config.REDIS_URL, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            status = 503
    if not _operator():
        return Response("ok" if status == 200 else "unavailable", status, mimetype="text/plain")
    checks["mode"] = "embedded" if config.is_embedded else "production"
    return jsonify(status="ok" if status == 200 else "degraded", checks=checks), status
