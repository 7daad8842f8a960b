"""audit log and teacher records

Revision ID: 5a_records
Revises: 96b139d3a91e
Create Date: 2026-11-29 04:17:35.798664
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = '5a_records'
down_revision = '96b139d3a91e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('annual_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_annual_evaluations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_evaluations')),
    sa.UniqueConstraint('user_id', 'year', name=op.f('uq_annual_evaluations_user_id_year'))
    )
    with op.batch_alter_table('annual_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_evaluations_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('on_behalf_of_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.ForeignKeyConstraint(['on_behalf_of_id'], ['users.id'], name=op.f('fk_audit_events_on_behalf_of_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_school_id'), ['school_id'], unique=False)

    op.create_table('service_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_service_periods_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_service_periods_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_periods'))
    )
    with op.batch_alter_table('service_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_periods_user_id'), ['user_id'], unique=False)

    op.create_table('teacher_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('staff_no', sa.String(length=32), nullable=True),
    sa.Column('teaching_start', sa.Date(), nullable=True),
    sa.Column('tier', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_teacher_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_teacher_profiles')),
    sa.UniqueConstraint('staff_no', name=op.f('uq_teacher_profiles_staff_no'))
    )


def downgrade() -> None:
    op.drop_table('teacher_profiles')
    with op.batch_alter_table('service_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_periods_user_id'))

    op.drop_table('service_periods')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_school_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('annual_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_evaluations_user_id'))

    op.drop_table('annual_evaluations')
