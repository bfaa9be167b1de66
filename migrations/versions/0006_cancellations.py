"""cancellations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 03:26:29.332950
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('departure_cancellations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('bookings_cancelled', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('refunded_minor', sa.Integer(), nullable=False),
    sa.Column('message_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('unreachable', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_departure_cancellations_departure_id_departures')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_departure_cancellations_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departure_cancellations')),
    sa.UniqueConstraint('departure_id', name=op.f('uq_departure_cancellations_departure_id'))
    )
    op.create_index(op.f('ix_departure_cancellations_organization_id'), 'departure_cancellations', ['organization_id'], unique=False)
    op.add_column('tours', sa.Column('cancellation_policy', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade() -> None:
    op.drop_column('tours', 'cancellation_policy')
    op.drop_index(op.f('ix_departure_cancellations_organization_id'), table_name='departure_cancellations')
    op.drop_table('departure_cancellations')
