"""declined appointments (plan 二(一)1), workshop outputs (成果) and workshop evaluation (issue 16, second part)

Revision ID: 16c_workshop_outputs
Revises: 16a_organisation
Create Date: 2026-12-06 05:10:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = '16c_workshop_outputs'
down_revision = '16a_organisation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('declined_appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', backend.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_declined_appointments_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_declined_appointments_school_id_schools')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_declined_appointments_recorded_by_users')),
    sa.ForeignKeyConstraint(['withdrawn_by'], ['users.id'], name=op.f('fk_declined_appointments_withdrawn_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declined_appointments'))
    )
    with op.batch_alter_table('declined_appointments', schema=None) as batch_op:
        batch_op.create_index('ix_declined_appointments_user_year', ['user_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_declined_appointments_school_id'), ['school_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('declined_appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declined_appointments_school_id'))
        batch_op.drop_index('ix_declined_appointments_user_year')
    op.drop_table('declined_appointments')
