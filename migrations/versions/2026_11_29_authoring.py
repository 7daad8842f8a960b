"""authoring: course review trail, cover images, document lessons, one-time code change

Revision ID: 4b_authoring
Revises: 4a0_owners
Create Date: 2026-11-29 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "4b_authoring"
down_revision = "4a0_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("learners_moved", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_reviews_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_course_reviews_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_reviews")),
    )
    with op.batch_alter_table("course_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_reviews_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_course_reviews_actor_id"), ["actor_id"], unique=False)

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cover_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("code_locked", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("poster_key", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("poster_key")
        batch_op.drop_column("pages")

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("code_locked")
        batch_op.drop_column("cover_key")

    with op.batch_alter_table("course_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_reviews_actor_id"))
        batch_op.drop_index(batch_op.f("ix_course_reviews_course_id"))
    op.drop_table("course_reviews")
