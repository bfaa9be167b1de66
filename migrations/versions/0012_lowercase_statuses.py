"""one casing for stored statuses: bookings and leads lowercase like every other status

Bookings and leads stored their statuses in UPPERCASE while departures, waitlist entries,
payments, incidents, messages and conversations used lowercase. Everything is lowercase
now; the status changes already on the timeline ("from"/"to" of booking.status_changed and
lead.status_changed) are converted with them, so a booking's timeline still ends in the
status the booking has.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_TABLES = ("bookings", "leads")
STATUS_EVENTS = ("booking.status_changed", "lead.status_changed")
BATCH = 1000

timeline = sa.table(
    "timeline_events",
    sa.column("id", sa.Integer),
    sa.column("event_type", sa.String),
    sa.column("content", models.base.JSONType),
)


def _convert(case: Callable[[Any], Any], python_case: Callable[[str], str]) -> None:
    for name in STATUS_TABLES:
        table = sa.table(name, sa.column("status", sa.String))
        op.execute(table.update().values(status=case(table.c.status)))
    # JSON is rewritten in Python, in batches: the same code on SQLite and PostgreSQL.
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(timeline.c.id, timeline.c.content)
            .where(timeline.c.event_type.in_(STATUS_EVENTS), timeline.c.id > last)
            .order_by(timeline.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = []
        for row in rows:
            content = dict(row.content or {})
            for key in ("from", "to"):
                if isinstance(content.get(key), str):
                    content[key] = python_case(content[key])
            if content != row.content:
                changed.append({"row_id": row.id, "new_content": content})
        if changed:
            conn.execute(
                timeline.update()
                .where(timeline.c.id == sa.bindparam("row_id"))
                .values(content=sa.bindparam("new_content", type_=models.base.JSONType)),
                changed,
            )


def upgrade() -> None:
    _convert(sa.func.lower, str.lower)


def downgrade() -> None:
    _convert(sa.func.upper, str.upper)
