"""the languages a guide speaks: their replies are written in the first

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = models.base.JSONType


def upgrade() -> None:
    with op.batch_alter_table("guides") as batch:
        batch.add_column(sa.Column("languages", JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("guides") as batch:
        batch.drop_column("languages")
