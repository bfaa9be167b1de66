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
# A token left in an integration's settings for years is a token nobody remembers to
# revoke: new ones last a year unless asked otherwise.
DEFAULT_LIFETIME = timedelta(days=365)


class ApiTokenError(ServiceError):
    http_status = 401


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    org: Organization,
    now: datetime,
    name: str = "api",
    *,
    expires_in: timedelta | None = DEFAULT_LIFETIME,
) -> str:
    """Returns the token itself; it cannot be recovered later. It stops working after
    `expires_in` (None: only when revoked)."""
    name = " ".join(name.replace("\x00", "").split())[:100] or "api"
    if expires_in is not None and expires_in <= timedelta(0):
        raise ApiTokenError("a token's lifetime must be positive")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            organization_id=org.id,
            name=name,
            token_hash=_digest(token),
            prefix=token[:10],
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
        )
    )
    session.flush()
    return token


def tokens_of(session: Session, org: Organization) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.organization_id == org.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def revoke(session: Session, org: Organization, token_id: int, now: datetime) -> ApiToken:
    """The token stops working at once. Revoking twice changes nothing."""
    row = session.get(ApiToken, token_id)
    if row is None or row.organization_id != org.id:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def authenticate(session: Session, token: str, now: datetime) -> Organization:
    if not token or len(token) > 200 or not token.startswith(PREFIX):
        raise ApiTokenError("invalid API token")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        raise ApiTokenError("invalid API token")
    if row.expires_at is not None and now >= row.expires_at:
        raise ApiTokenError("this API token has expired; ask an owner for a new one")
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
