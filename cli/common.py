"""Helpers shared by the commands: a session that commits (sending the messages it
queued) or rolls back as a whole, and turning service errors into a clear message and exit
code 1, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session

from extensions import db, job_queue
from services import outbox
from services.errors import ServiceError


@contextmanager
def unit_of_work() -> Iterator[Session]:
    session = db.factory()
    try:
        yield session
        outbox.commit_and_send(session, job_queue())
    except ServiceError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def parse_now(value: str | None) -> datetime:
    """--now ISO8601; a time without an offset is taken as UTC."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time such as 2027-03-15T06:00:00Z", param_hint="--now"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not 1900 <= moment.year <= 9000:  # years 1 and 9999 overflowed once in UTC (a traceback)
        raise click.BadParameter(
            f"{value!r} is not a year between 1900 and 9000", param_hint="--now"
        )
    return moment
