"""The owner's approval link, kept out of the communications log. The message to the owner
is stored with a marker where the link goes ({approval-link:<booking id>}); the link itself,
signed with SECRET_KEY and carrying the booking's single-use nonce, is made only as the
message is sent (services/outbox.deliver). So the stored body, which staff pages and the
read-only API show, never holds a credential that could confirm or decline a booking."""

from __future__ import annotations

import re
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from config import Config
from models import Booking

SALT = "booking-approval"
_MARKER = re.compile(r"\{approval-link:(\d+)\}")


def serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def marker(booking: Booking) -> str:
    """What stands for the token in the stored message."""
    return f"{{approval-link:{booking.id}}}"


def token(secret: str, booking: Booking) -> str:
    data: dict[str, Any] = {"b": booking.id, "n": booking.approval_nonce}
    return str(serializer(secret).dumps(data))


def expand(session: Session, body: str, config: Config) -> str:
    """The body as sent: each marker replaced by a fresh token for its booking, or by a
    note when the booking has been decided already (the link would be dead)."""

    def link(match: re.Match[str]) -> str:
        booking = session.get(Booking, int(match[1]))
        if booking is None or not booking.approval_nonce:
            return "(already decided)"
        return token(config.signing_key, booking)

    return _MARKER.sub(link, body)
