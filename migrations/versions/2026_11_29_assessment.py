"""assessment: question banks and draw rules, fill-in and essay questions, timed attempts with extensions,
assignments with rubrics and submissions, and the grade history

Revision ID: 4c_assess
Revises: 4a0_owners
Create Date: 2026-11-29 14:00:00

Downgrade is lossy by necessity: bank questions, attempts never submitted and everything in the new tables go.
"""

import sqlalchemy as sa
from alembic import op

revision = "4c_assess"
down_revision = "4a0_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_question_banks_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_banks")),
    )
    with op.batch_alter_table("question_banks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_banks_course_code"), ["course_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_banks_topic"), ["topic"], unique=False)

    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_limit_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("counting", sa.String(length=8), server_default="highest", nullable=False))
        batch_op.add_column(
            sa.Column("show_explanations", sa.String(length=16), server_default="always", nullable=False)
        )
        batch_op.add_column(sa.Column("shuffle_options", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("accepted", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("points", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch_op.alter_column("quiz_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_questions_bank_id"), ["bank_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_questions_bank_id_position"), ["bank_id", "position"])
        batch_op.create_foreign_key(
            batch_op.f("fk_questions_bank_id_question_banks"), "question_banks", ["bank_id"], ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(op.f("ck_questions_owner"), "quiz_id IS NOT NULL OR bank_id IS NOT NULL")

    op.create_table(
        "quiz_draw_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["question_banks.id"],
                                name=op.f("fk_quiz_draw_rules_bank_id_question_banks"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_draw_rules_quiz_id_quizzes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_draw_rules")),
        sa.UniqueConstraint("quiz_id", "bank_id", name=op.f("uq_quiz_draw_rules_quiz_id_bank_id")),
    )
    with op.batch_alter_table("quiz_draw_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_draw_rules_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quiz_draw_rules_quiz_id"), ["quiz_id"], unique=False)

    op.create_table(
        "quiz_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"], name=op.f("fk_quiz_extensions_granted_by_users")),
        sa.ForeignKeyConstraint(["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_extensions_quiz_id_quizzes"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_quiz_extensions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_extensions")),
    )
    with op.batch_alter_table("quiz_extensions", schema=None) as batch_op:
        batch_op.create_index("ix_quiz_extensions_quiz_user", ["quiz_id", "user_id"], unique=False)

    # Attempts: existing rows were written in one go, so they started when they were submitted.
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=20), server_default="graded", nullable=False))
        batch_op.add_column(sa.Column("question_ids", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("option_orders", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("results", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("points", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("max_points", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("feedback", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("graded_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_quiz_attempts_status"), ["status"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_quiz_attempts_graded_by_users"), "users", ["graded_by"], ["id"])
    op.execute("UPDATE quiz_attempts SET started_at = submitted_at")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.alter_column("started_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column("submitted_at", existing_type=sa.DateTime(timezone=True), nullable=True)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("instructions_md", sa.Text(), nullable=False),
        sa.Column("max_score", sa.Integer(), nullable=False),
        sa.Column("pass_score", sa.Integer(), nullable=False),
        sa.Column("allow_resubmission", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_assignments_course_id_courses"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_course_id"), ["course_id"], unique=False)

    op.create_table(
        "assignment_rubric_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"],
                                name=op.f("fk_assignment_rubric_items_assignment_id_assignments"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rubric_items")),
        sa.UniqueConstraint("assignment_id", "position",
                            name=op.f("uq_assignment_rubric_items_assignment_id_position")),
    )
    with op.batch_alter_table("assignment_rubric_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_rubric_items_assignment_id"), ["assignment_id"], unique=False)

    op.create_table(
        "assignment_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_key", sa.String(length=255), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_type", sa.String(length=100), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("rubric_scores", sa.JSON(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("graded_by", sa.Integer(), nullable=True),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"],
                                name=op.f("fk_assignment_submissions_assignment_id_assignments"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["graded_by"], ["users.id"], name=op.f("fk_assignment_submissions_graded_by_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assignment_submissions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_submissions")),
        sa.UniqueConstraint("assignment_id", "user_id", "number",
                            name=op.f("uq_assignment_submissions_assignment_id_user_id_number")),
    )
    with op.batch_alter_table("assignment_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_submissions_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_submissions_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_submissions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "grade_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_type", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_value", sa.String(length=32), nullable=True),
        sa.Column("new_value", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_grade_history_actor_id_users")),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_grade_history_course_id_courses"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["users.id"], name=op.f("fk_grade_history_learner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_history")),
    )
    with op.batch_alter_table("grade_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grade_history_course_id"), ["course_id"], unique=False)
        batch_op.create_index("ix_grade_history_item", ["item_type", "item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grade_history_learner_id"), ["learner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("grade_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_history_learner_id"))
        batch_op.drop_index("ix_grade_history_item")
        batch_op.drop_index(batch_op.f("ix_grade_history_course_id"))
    op.drop_table("grade_history")
    with op.batch_alter_table("assignment_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_submissions_user_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_submissions_status"))
        batch_op.drop_index(batch_op.f("ix_assignment_submissions_assignment_id"))
    op.drop_table("assignment_submissions")
    with op.batch_alter_table("assignment_rubric_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_rubric_items_assignment_id"))
    op.drop_table("assignment_rubric_items")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_course_id"))
    op.drop_table("assignments")

    # The old schema has no attempt that was started but never submitted.
    op.execute("DELETE FROM quiz_attempts WHERE submitted_at IS NULL")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_quiz_attempts_graded_by_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_status"))
        batch_op.alter_column("submitted_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        for column in ("graded_at", "graded_by", "feedback", "max_points", "points", "results", "option_orders",
                       "question_ids", "status", "deadline", "started_at"):
            batch_op.drop_column(column)

    with op.batch_alter_table("quiz_extensions", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_extensions_quiz_user")
    op.drop_table("quiz_extensions")
    with op.batch_alter_table("quiz_draw_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_draw_rules_quiz_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_draw_rules_bank_id"))
    op.drop_table("quiz_draw_rules")

    # Questions kept in banks have no quiz, which the old schema cannot hold.
    op.execute("DELETE FROM questions WHERE quiz_id IS NULL")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_questions_owner"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_questions_bank_id_question_banks"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_questions_bank_id_position"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_questions_bank_id"))
        batch_op.alter_column("quiz_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("points")
        batch_op.drop_column("accepted")
        batch_op.drop_column("bank_id")

    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_column("shuffle_options")
        batch_op.drop_column("show_explanations")
        batch_op.drop_column("counting")
        batch_op.drop_column("time_limit_minutes")

    with op.batch_alter_table("question_banks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_banks_topic"))
        batch_op.drop_index(batch_op.f("ix_question_banks_course_code"))
    op.drop_table("question_banks")
