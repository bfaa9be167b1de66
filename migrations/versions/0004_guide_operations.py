"""guide operations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:15:21.842798
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('guide_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('fee_minor', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('offered_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_guide_assignments_departure_id_departures')),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], name=op.f('fk_guide_assignments_guide_id_guides')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_guide_assignments_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guide_assignments'))
    )
    op.create_index('ix_assignments_departure_status', 'guide_assignments', ['departure_id', 'status'], unique=False)
    op.create_index(op.f('ix_guide_assignments_guide_id'), 'guide_assignments', ['guide_id'], unique=False)
    op.create_index(op.f('ix_guide_assignments_organization_id'), 'guide_assignments', ['organization_id'], unique=False)
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('opened_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_minutes', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_incidents_departure_id_departures')),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], name=op.f('fk_incidents_guide_id_guides'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_incidents_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_index('ix_incidents_departure_status', 'incidents', ['departure_id', 'status'], unique=False)
    op.create_index(op.f('ix_incidents_organization_id'), 'incidents', ['organization_id'], unique=False)
    op.create_table('payroll_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('departure_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['departure_id'], ['departures.id'], name=op.f('fk_payroll_entries_departure_id_departures')),
    sa.ForeignKeyConstraint(['guide_id'], ['guides.id'], name=op.f('fk_payroll_entries_guide_id_guides')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_payroll_entries_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payroll_entries')),
    sa.UniqueConstraint('guide_id', 'departure_id', name=op.f('uq_payroll_entries_guide_id_departure_id'))
    )
    op.create_index(op.f('ix_payroll_entries_guide_id'), 'payroll_entries', ['guide_id'], unique=False)
    op.create_index(op.f('ix_payroll_entries_organization_id'), 'payroll_entries', ['organization_id'], unique=False)
    op.create_table('incident_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('resolves', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_updates_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_updates'))
    )
    op.create_index(op.f('ix_incident_updates_incident_id'), 'incident_updates', ['incident_id'], unique=False)
    op.add_column('bookings', sa.Column('attendance', sa.String(length=16), nullable=True))
    op.add_column('departures', sa.Column('checked_in_at', models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('departures', sa.Column('checked_out_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('departures', 'checked_out_at')
    op.drop_column('departures', 'checked_in_at')
    op.drop_column('bookings', 'attendance')
    op.drop_index(op.f('ix_incident_updates_incident_id'), table_name='incident_updates')
    op.drop_table('incident_updates')
    op.drop_index(op.f('ix_payroll_entries_organization_id'), table_name='payroll_entries')
    op.drop_index(op.f('ix_payroll_entries_guide_id'), table_name='payroll_entries')
    op.drop_table('payroll_entries')
    op.drop_index(op.f('ix_incidents_organization_id'), table_name='incidents')
    op.drop_index('ix_incidents_departure_status', table_name='incidents')
    op.drop_table('incidents')
    op.drop_index(op.f('ix_guide_assignments_organization_id'), table_name='guide_assignments')
    op.drop_index(op.f('ix_guide_assignments_guide_id'), table_name='guide_assignments')
    op.drop_index('ix_assignments_departure_status', table_name='guide_assignments')
    op.drop_table('guide_assignments')
