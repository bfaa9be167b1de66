"""Bearer tokens for the read-only JSON API, one or more per organization.

Only a SHA-256 of each token is stored: a database leak gives no working token, and
the token, which is random and long, needs no slow hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, Organization
from services.errors import NotFound, ServiceError

PREFIX = "tb_"


class ApiTokenError(ServiceError):
    http_status = 401


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, org: Organization, now: datetime, name: str = "api") -> str:
    """Returns the token itself; it cannot be recovered later."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            organization_id=org.id,
            name=name,
            token_hash=_digest(token),
            prefix=token[:10],
            created_at=now,
        )
    )
    session.flush()
    return token


def authenticate(session: Session, token: str, now: datetime) -> Organization:
    if not token or len(token) > 200 or not token.startswith(PREFIX):
        raise ApiTokenError("invalid API token")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        raise ApiTokenError("invalid API token")
    # Recorded at most once a minute: a write on every read would make a GET cost a commit.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    org = session.get(Organization, row.organization_id)
    if org is None:
        raise ApiTokenError("invalid API token")
    return org


def organization_by_slug(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(f"no organization with slug {slug!r}")
    return org
