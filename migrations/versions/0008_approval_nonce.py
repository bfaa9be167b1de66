"""approval nonce

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 03:43:06.288282
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bookings', sa.Column('approval_nonce', sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column('bookings', 'approval_nonce')
