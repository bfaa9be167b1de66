"""guide time off, and guests checked in at the meeting point

Offers and direct assignments leave out a guide whose time off overlaps the departure.
Bookings record how many of their guests were checked in from the manifest, when and by
whom.
(0023a: desk's second migration of the session; 0023 was its reserved number.)

Revision ID: 0023a
Revises: 0023
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0023a"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "guide_time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["guide_id"], ["guides.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff_users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_guide_time_off_guide_ends", "guide_time_off", ["guide_id", "ends_at"], unique=False
    )
    op.create_index(
        op.f("ix_guide_time_off_organization_id"),
        "guide_time_off",
        ["organization_id"],
        unique=False,
    )


    with op.batch_alter_table("bookings") as batch:
        batch.add_column(
            sa.Column("checked_in_guests", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("checked_in_at", WHEN, nullable=True))
        batch.add_column(sa.Column("checked_in_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_bookings_checked_in_by_id_staff_users",
            "staff_users",
            ["checked_in_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint("fk_bookings_checked_in_by_id_staff_users", type_="foreignkey")
        batch.drop_column("checked_in_by_id")
        batch.drop_column("checked_in_at")
        batch.drop_column("checked_in_guests")
    op.drop_index(op.f("ix_guide_time_off_organization_id"), table_name="guide_time_off")
    op.drop_index("ix_guide_time_off_guide_ends", table_name="guide_time_off")
    op.drop_table("guide_time_off")
