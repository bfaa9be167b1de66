"""messages.category (service, utility, marketing, sms) and booking_id (the booking a
message is about), for what messaging costs per booking; messages.persistent_action (a
WhatsApp map pin); tours.latitude and longitude (the meeting point's pin)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("booking_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("persistent_action", JSON, nullable=True))
        batch.create_foreign_key(
            "fk_messages_booking_id_bookings", "bookings", ["booking_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_messages_booking_id", ["booking_id"], unique=False)
    with op.batch_alter_table("tours") as batch:
        batch.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tours") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_booking_id")
        batch.drop_constraint("fk_messages_booking_id_bookings", type_="foreignkey")
        batch.drop_column("persistent_action")
        batch.drop_column("booking_id")
        batch.drop_column("category")
