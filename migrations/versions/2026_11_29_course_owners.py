"""course owners: trainers who may edit a course code

Revision ID: 4a0_owners
Revises: eec20265e0b5
Create Date: 2026-11-29 02:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "4a0_owners"
down_revision = "eec20265e0b5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_owners",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_course_owners_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code", "user_id", name=op.f("pk_course_owners")),
    )
    with op.batch_alter_table("course_owners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_owners_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("course_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_owners_user_id"))
    op.drop_table("course_owners")
