"""staff session generation, API token expiry

Logging out ends every session of that person (a copied cookie kept working after logout):
each session carries staff_users.session_generation, which logout and deactivation raise.
API tokens may expire (api_tokens.expires_at; null: until revoked).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("session_generation")
