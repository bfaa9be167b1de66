"""pay link secrets, reusable checkouts

Pay links carried only the booking's 5-character reference: anyone could guess them and see
the booking. Each booking gets an unguessable pay_token that its links carry (as pretix's
order secrets). A checkout keeps its address and expiry (payments.checkout_url,
checkout_expires_at), so a second click on Pay reuses the open one.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 07:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.add_column(sa.Column("pay_token", sa.String(32), nullable=True))
    bookings = sa.table("bookings", sa.column("id", sa.Integer), sa.column("pay_token", sa.String))
    connection = op.get_bind()
    for (booking_id,) in connection.execute(sa.select(bookings.c.id)).all():
        connection.execute(
            bookings.update()
            .where(bookings.c.id == booking_id)
            .values(pay_token=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.alter_column("pay_token", existing_type=sa.String(32), nullable=False)
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("checkout_url", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("checkout_expires_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("checkout_expires_at")
        batch_op.drop_column("checkout_url")
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.drop_column("pay_token")
