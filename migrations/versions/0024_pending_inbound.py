"""inbound messages waiting for a worker, and when a template's review was last checked

The webhook stores an inbound message and answers Twilio at once; a worker answers the
customer (pending_inbound holds what it reads besides the log row). whatsapp_contents
records when Twilio was last asked about a template's review, so the sweep can refresh
pending reviews every so often.

Revision ID: 0024
Revises: 0023a
Create Date: 2026-12-06 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0024"
down_revision: str | None = "0023a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pending_inbound",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("inbound", models.base.JSONType, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    with op.batch_alter_table("whatsapp_contents") as batch:
        batch.add_column(sa.Column("approval_checked_at", WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_contents") as batch:
        batch.drop_column("approval_checked_at")
    op.drop_table("pending_inbound")
