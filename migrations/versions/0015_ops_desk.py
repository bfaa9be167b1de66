"""person requests (staff first-response times), batched departure cancellations with the
call list's ticks, and guide offers escalated to ops

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = models.base.JSONType
WHEN = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "person_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_person_requests_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["staff_users.id"],
            name=op.f("fk_person_requests_answered_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_person_requests_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_requests")),
    )
    op.create_index(
        op.f("ix_person_requests_conversation_id"), "person_requests", ["conversation_id"]
    )
    op.create_index(
        "ix_person_requests_org_requested", "person_requests", ["organization_id", "requested_at"]
    )
    with op.batch_alter_table("departure_cancellations") as batch:
        batch.add_column(sa.Column("batch", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("called", JSON, nullable=False, server_default="{}"))
        batch.create_index(batch.f("ix_departure_cancellations_batch"), ["batch"])
    with op.batch_alter_table("guide_assignments") as batch:
        batch.add_column(sa.Column("escalated_at", WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guide_assignments") as batch:
        batch.drop_column("escalated_at")
    with op.batch_alter_table("departure_cancellations") as batch:
        batch.drop_index(batch.f("ix_departure_cancellations_batch"))
        batch.drop_column("called")
        batch.drop_column("batch")
    op.drop_index("ix_person_requests_org_requested", table_name="person_requests")
    op.drop_index(op.f("ix_person_requests_conversation_id"), table_name="person_requests")
    op.drop_table("person_requests")
