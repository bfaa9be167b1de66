"""messages.units and messages.country: what a message is billed on, recorded when it is
written (SMS segments, else 1; the recipient's country), so the messaging report sums
them in SQL instead of parsing every phone number and SMS body of the period in Python
(a year's summary and messages CSVs took about a second: bench/admin.py), with a
partial index of the outbound messages not about a booking by recipient and time.
Existing outbound messages are filled in here, with the same functions the writers use.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 13:20:00
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    from services.message_costs import billing

    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("units", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    # A booking's messages of the conversation, one index range each (the INCLUDE lets
    # PostgreSQL answer from the index).
    op.create_index(
        "ix_messages_billed_talk",
        "messages",
        ["organization_id", "to_phone", "created_at"],
        unique=False,
        postgresql_include=["status", "category", "channel", "country", "units"],
        postgresql_where=sa.text("direction = 'outbound' AND booking_id IS NULL"),
        sqlite_where=sa.text("direction = 'outbound' AND booking_id IS NULL"),
    )
    conn = op.get_bind()
    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("direction", sa.String),
        sa.column("channel", sa.String),
        sa.column("category", sa.String),
        sa.column("template_sid", sa.String),
        sa.column("to_phone", sa.String),
        sa.column("body", sa.Text),
        sa.column("units", sa.Integer),
        sa.column("country", sa.String),
    )
    rows = conn.execute(
        sa.select(
            messages.c.id,
            messages.c.channel,
            messages.c.category,
            messages.c.template_sid,
            messages.c.to_phone,
            messages.c.body,
        ).where(messages.c.direction == "outbound")
    ).all()
    # One UPDATE per (units, country) and batch of ids: most messages are one unit to a
    # handful of countries.
    groups: dict[tuple[int, str | None], list[int]] = defaultdict(list)
    for mid, channel, category, template_sid, phone, body in rows:
        groups[billing(channel, category, template_sid, phone, body)].append(mid)
    for (units, country), ids in groups.items():
        for n in range(0, len(ids), BATCH):
            conn.execute(
                messages.update()
                .where(messages.c.id.in_(ids[n : n + BATCH]))
                .values(units=units, country=country)
            )


def downgrade() -> None:
    op.drop_index("ix_messages_billed_talk", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("country")
        batch.drop_column("units")
