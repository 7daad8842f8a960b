"""declined appointments (plan 二(一)1), workshop outputs (成果) and workshop evaluation (issue 16, second part)

Revision ID: 16c_workshop_outputs
Revises: 16a_organisation
Create Date: 2026-12-06 05:10:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = '16c_workshop_outputs'
down_revision = "16b_reserve_assign"  # after the reserve pool and assigned learning
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

    op.create_table('org_workshop_outputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=False),
    sa.Column('media_key', sa.String(length=1024), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('media_kind', sa.String(length=16), nullable=False),
    sa.Column('media_name', sa.String(length=255), nullable=False),
    sa.Column('media_size', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('poster_key', sa.String(length=1024), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('review_reason', sa.String(length=500), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', backend.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('promoted_by', sa.Integer(), nullable=True),
    sa.Column('promoted_at', backend.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workshop_id'], ['org_workshops.id'], name=op.f('fk_org_workshop_outputs_workshop_id_org_workshops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_org_workshop_outputs_author_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_org_workshop_outputs_reviewed_by_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_org_workshop_outputs_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['promoted_by'], ['users.id'], name=op.f('fk_org_workshop_outputs_promoted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_workshop_outputs'))
    )
    with op.batch_alter_table('org_workshop_outputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_workshop_outputs_workshop_id'), ['workshop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_workshop_outputs_author_id'), ['author_id'], unique=False)

    op.create_table('org_indicator_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', backend.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_org_indicator_sets_created_by_users')),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'], name=op.f('fk_org_indicator_sets_published_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_indicator_sets')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_org_indicator_sets_name_version'))
    )
    op.create_table('org_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('max_score', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('figure', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['org_indicator_sets.id'], name=op.f('fk_org_indicators_set_id_org_indicator_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_indicators'))
    )
    with op.batch_alter_table('org_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_indicators_set_id'), ['set_id'], unique=False)

    op.create_table('org_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('self_submitted_at', backend.kit.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('self_submitted_by', sa.Integer(), nullable=True),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workshop_id'], ['org_workshops.id'], name=op.f('fk_org_evaluations_workshop_id_org_workshops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['org_indicator_sets.id'], name=op.f('fk_org_evaluations_set_id_org_indicator_sets')),
    sa.ForeignKeyConstraint(['self_submitted_by'], ['users.id'], name=op.f('fk_org_evaluations_self_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_evaluations')),
    sa.UniqueConstraint('workshop_id', 'year', name=op.f('uq_org_evaluations_workshop_id_year'))
    )
    with op.batch_alter_table('org_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_evaluations_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('org_eval_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('by_role', sa.String(length=16), nullable=False),
    sa.Column('scorer_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=1), nullable=False),
    sa.Column('figure', sa.Numeric(precision=10, scale=1), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evaluation_id'], ['org_evaluations.id'], name=op.f('fk_org_eval_scores_evaluation_id_org_evaluations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indicator_id'], ['org_indicators.id'], name=op.f('fk_org_eval_scores_indicator_id_org_indicators')),
    sa.ForeignKeyConstraint(['scorer_id'], ['users.id'], name=op.f('fk_org_eval_scores_scorer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_eval_scores')),
    sa.UniqueConstraint('evaluation_id', 'indicator_id', 'by_role', 'scorer_id', name='uq_org_eval_scores_scorer')
    )


def downgrade() -> None:
    op.drop_table('org_eval_scores')
    with op.batch_alter_table('org_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_evaluations_workshop_id'))
    op.drop_table('org_evaluations')
    with op.batch_alter_table('org_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_indicators_set_id'))
    op.drop_table('org_indicators')
    op.drop_table('org_indicator_sets')
    with op.batch_alter_table('org_workshop_outputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_workshop_outputs_author_id'))
        batch_op.drop_index(batch_op.f('ix_org_workshop_outputs_workshop_id'))
    op.drop_table('org_workshop_outputs')
    with op.batch_alter_table('declined_appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declined_appointments_school_id'))
        batch_op.drop_index('ix_declined_appointments_user_year')
    op.drop_table('declined_appointments')
