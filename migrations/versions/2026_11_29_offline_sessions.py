"""offline study sessions and attendance

Revision ID: 5c_offline
Revises: 5a_records
Create Date: 2026-11-29 04:35:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = "5c_offline"
down_revision = "5a_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_training_sessions_created_by_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_training_sessions_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_sessions_created_by"), ["created_by"], unique=False)
        batch_op.create_index("ix_training_sessions_school_day", ["school_id", "day"], unique=False)

    op.create_table(
        "training_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        sa.Column("checked_in_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["marked_by"], ["users.id"], name=op.f("fk_training_attendance_marked_by_users")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["training_sessions.id"], name=op.f("fk_training_attendance_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_training_attendance_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attendance")),
        sa.UniqueConstraint("session_id", "user_id", name=op.f("uq_training_attendance_session_id_user_id")),
    )
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_attendance_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_attendance_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attendance_user_id"))
        batch_op.drop_index(batch_op.f("ix_training_attendance_session_id"))
    op.drop_table("training_attendance")
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_training_sessions_school_day")
        batch_op.drop_index(batch_op.f("ix_training_sessions_created_by"))
    op.drop_table("training_sessions")
