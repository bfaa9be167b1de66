"""a task to hand back money taken by hand names its refund: the booking page tells each
refund's state (to hand back, handed back, no task) instead of one for all

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("refund_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_tasks_refund_id_refunds", "refunds", ["refund_id"], ["id"], ondelete="SET NULL"
        )
    # Existing hand-back tasks: the refund was written in the same step, at the same
    # moment, for the same booking's money taken by hand.
    op.execute(
        """
        UPDATE tasks SET refund_id = (
            SELECT MIN(refunds.id) FROM refunds JOIN payments ON payments.id = refunds.payment_id
            WHERE payments.booking_id = tasks.booking_id
              AND payments.provider = 'manual'
              AND refunds.created_at = tasks.created_at
        )
        WHERE tasks.kind = 'refund' AND tasks.booking_id IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint("fk_tasks_refund_id_refunds", type_="foreignkey")
        batch.drop_column("refund_id")
