"""the booking desk: guests' needs on the booking (accessibility, names), payments staff
took themselves (method, reference, who), staff notes on a customer

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = models.base.JSONType


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("accessibility_notes", sa.Text, nullable=True))
        batch.add_column(sa.Column("guest_names", JSON, nullable=False, server_default="[]"))
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("method", sa.String(16), nullable=True))
        batch.add_column(sa.Column("external_reference", sa.String(100), nullable=True))
        batch.add_column(sa.Column("recorded_by_id", sa.Integer, nullable=True))
        batch.create_foreign_key(
            "fk_payments_recorded_by_id_staff_users",
            "staff_users",
            ["recorded_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("notes", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("notes")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("fk_payments_recorded_by_id_staff_users", type_="foreignkey")
        batch.drop_column("recorded_by_id")
        batch.drop_column("external_reference")
        batch.drop_column("method")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("guest_names")
        batch.drop_column("accessibility_notes")
