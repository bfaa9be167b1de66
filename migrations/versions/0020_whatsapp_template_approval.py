"""whatsapp_contents.approval_status and approval_reason: WhatsApp's review of each
template per purpose and language, as Twilio reports it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_contents") as batch:
        batch.add_column(sa.Column("approval_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("approval_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_contents") as batch:
        batch.drop_column("approval_reason")
        batch.drop_column("approval_status")
