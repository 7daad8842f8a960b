"""the homeroom organisation: classes and appointments per school year, tier history, workshops, mentoring (issue 16)

Revision ID: 16a_organisation
Revises: 19_chain
Create Date: 2026-12-06 01:18:04.491529
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = '16a_organisation'
down_revision = '19_chain'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('grade', sa.String(length=20), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_classes_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_classes')),
    sa.UniqueConstraint('school_id', 'year', 'name', name=op.f('uq_org_classes_school_id_year_name'))
    )
    op.create_table('org_school_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_school_years_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_school_years')),
    sa.UniqueConstraint('school_id', 'year', name=op.f('uq_org_school_years_school_id_year'))
    )
    op.create_table('org_tier_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_org_tier_changes_set_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_tier_changes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_tier_changes'))
    )
    with op.batch_alter_table('org_tier_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_tier_changes_user_id'), ['user_id'], unique=False)

    op.create_table('org_workshops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_org_workshops_created_by_users')),
    sa.ForeignKeyConstraint(['host_id'], ['users.id'], name=op.f('fk_org_workshops_host_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_workshops_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_workshops'))
    )
    with op.batch_alter_table('org_workshops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_workshops_school_id'), ['school_id'], unique=False)

    op.create_table('org_appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('service_period_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['org_classes.id'], name=op.f('fk_org_appointments_class_id_org_classes')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_org_appointments_created_by_users')),
    sa.ForeignKeyConstraint(['service_period_id'], ['service_periods.id'], name=op.f('fk_org_appointments_service_period_id_service_periods'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_appointments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_appointments'))
    )
    with op.batch_alter_table('org_appointments', schema=None) as batch_op:
        batch_op.create_index('ix_org_appointments_class_role', ['class_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_appointments_user_id'), ['user_id'], unique=False)

    op.create_table('org_workshop_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_org_workshop_activities_session_id_training_sessions')),
    sa.ForeignKeyConstraint(['workshop_id'], ['org_workshops.id'], name=op.f('fk_org_workshop_activities_workshop_id_org_workshops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_workshop_activities')),
    sa.UniqueConstraint('session_id', name=op.f('uq_org_workshop_activities_session_id'))
    )
    with op.batch_alter_table('org_workshop_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_workshop_activities_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('org_workshop_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_workshop_members_user_id_users')),
    sa.ForeignKeyConstraint(['workshop_id'], ['org_workshops.id'], name=op.f('fk_org_workshop_members_workshop_id_org_workshops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_workshop_members'))
    )
    with op.batch_alter_table('org_workshop_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_workshop_members_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_workshop_members_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('org_workshop_schools',
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_workshop_schools_school_id_schools')),
    sa.ForeignKeyConstraint(['workshop_id'], ['org_workshops.id'], name=op.f('fk_org_workshop_schools_workshop_id_org_workshops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workshop_id', 'school_id', name=op.f('pk_org_workshop_schools'))
    )
    with op.batch_alter_table('org_workshop_schools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_workshop_schools_school_id'), ['school_id'], unique=False)



    op.create_table('org_mentorships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('mentee_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('goals', sa.String(length=1000), nullable=False),
    sa.Column('signed_off_at', backend.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sign_off_note', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_org_mentorships_created_by_users')),
    sa.ForeignKeyConstraint(['mentee_id'], ['users.id'], name=op.f('fk_org_mentorships_mentee_id_users')),
    sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_org_mentorships_mentor_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_mentorships_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_mentorships'))
    )
    with op.batch_alter_table('org_mentorships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_mentorships_mentee_id'), ['mentee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_mentorships_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_mentorships_school_id'), ['school_id'], unique=False)

    op.create_table('org_mentoring_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentorship_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_org_mentoring_meetings_created_by_users')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['org_mentorships.id'], name=op.f('fk_org_mentoring_meetings_mentorship_id_org_mentorships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_mentoring_meetings'))
    )
    with op.batch_alter_table('org_mentoring_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_mentoring_meetings_mentorship_id'), ['mentorship_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('org_mentoring_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_mentoring_meetings_mentorship_id'))
    op.drop_table('org_mentoring_meetings')
    with op.batch_alter_table('org_mentorships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_mentorships_school_id'))
        batch_op.drop_index(batch_op.f('ix_org_mentorships_mentor_id'))
        batch_op.drop_index(batch_op.f('ix_org_mentorships_mentee_id'))
    op.drop_table('org_mentorships')
    with op.batch_alter_table('org_workshop_schools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_workshop_schools_school_id'))

    op.drop_table('org_workshop_schools')
    with op.batch_alter_table('org_workshop_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_workshop_members_workshop_id'))
        batch_op.drop_index(batch_op.f('ix_org_workshop_members_user_id'))

    op.drop_table('org_workshop_members')
    with op.batch_alter_table('org_workshop_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_workshop_activities_workshop_id'))

    op.drop_table('org_workshop_activities')
    with op.batch_alter_table('org_appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_appointments_user_id'))
        batch_op.drop_index('ix_org_appointments_class_role')

    op.drop_table('org_appointments')
    with op.batch_alter_table('org_workshops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_workshops_school_id'))

    op.drop_table('org_workshops')
    with op.batch_alter_table('org_tier_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_tier_changes_user_id'))

    op.drop_table('org_tier_changes')
    op.drop_table('org_school_years')
    op.drop_table('org_classes')
