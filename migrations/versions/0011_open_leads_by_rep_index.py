"""a rep's open leads by index

choose_assignee counts each rep's open leads for every new lead. Indexed by assigned_to_id
alone, that read every lead the rep ever had; (assigned_to_id, status) reads only the
open ones, and still serves the foreign key (ON DELETE SET NULL) as the old index did.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_leads_assigned_to_id_status", "leads", ["assigned_to_id", "status"], unique=False
    )
    op.drop_index("ix_leads_assigned_to_id", table_name="leads")


def downgrade() -> None:
    op.create_index("ix_leads_assigned_to_id", "leads", ["assigned_to_id"], unique=False)
    op.drop_index("ix_leads_assigned_to_id_status", table_name="leads")
