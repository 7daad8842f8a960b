"""the reserve pool, learning assigned to groups, course prerequisites (issue 16)

Revision ID: 16b_reserve_assign
Revises: 16a_organisation
Create Date: 2026-12-06 05:10:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = '16b_reserve_assign'
down_revision = '19b_chain_topics'  # after issues 17 and 18 and the chained entry topics
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_pool_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('nominated_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['nominated_by'], ['users.id'], name=op.f('fk_org_pool_members_nominated_by_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_pool_members_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_pool_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_pool_members'))
    )
    with op.batch_alter_table('org_pool_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_pool_members_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_pool_members_user_id'), ['user_id'], unique=False)

    op.create_table('org_pool_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['org_pool_members.id'], name=op.f('fk_org_pool_reviews_member_id_org_pool_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_org_pool_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_pool_reviews'))
    )
    with op.batch_alter_table('org_pool_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_pool_reviews_member_id'), ['member_id'], unique=False)

    op.create_table('org_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('group_kind', sa.String(length=16), nullable=False),
    sa.Column('group_value', sa.String(length=32), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', backend.kit.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_org_assignments_course_id_courses')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_org_assignments_created_by_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_org_assignments_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_assignments'))
    )
    with op.batch_alter_table('org_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_assignments_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_assignments_school_id'), ['school_id'], unique=False)

    op.create_table('org_assignment_people',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['org_assignments.id'], name=op.f('fk_org_assignment_people_assignment_id_org_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_assignment_people_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', 'user_id', name=op.f('pk_org_assignment_people'))
    )
    with op.batch_alter_table('org_assignment_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_assignment_people_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prerequisite_code', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('prerequisite_code')
    with op.batch_alter_table('org_assignment_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_assignment_people_user_id'))
    op.drop_table('org_assignment_people')
    with op.batch_alter_table('org_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_assignments_school_id'))
        batch_op.drop_index(batch_op.f('ix_org_assignments_course_id'))
    op.drop_table('org_assignments')
    with op.batch_alter_table('org_pool_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_pool_reviews_member_id'))
    op.drop_table('org_pool_reviews')
    with op.batch_alter_table('org_pool_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_pool_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_org_pool_members_school_id'))
    op.drop_table('org_pool_members')
