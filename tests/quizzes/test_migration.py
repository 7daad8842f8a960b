"""The assessment migration on both databases: existing attempts keep their data (started = submitted), quizzes
and questions get their defaults, and it goes down and up again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from backend.migrate import downgrade, upgrade

PARENT, OURS = "4a0_owners", "4c_assess"


LEGACY = [
    "INSERT INTO users (id, username, display_name, role, is_active, created_at) "
    "VALUES (1, 't', 'T', 'teacher', TRUE, '2026-11-01 08:00:00+00')",
    "INSERT INTO courses (id, code, version, title, summary, description_md, tier, credit_hours, credit_category, "
    "status, created_at) VALUES (1, 'C1', 1, '课', '', '', 'horizon', 4.0, 'knowledge_skills', 'published', "
    "'2026-11-01 08:00:00+00')",
    "INSERT INTO quizzes (id, course_id, title, pass_mark, max_attempts) VALUES (1, 1, '测验', 60, 3)",
    "INSERT INTO questions (id, quiz_id, position, kind, prompt, options, answer, explanation) "
    "VALUES (1, 1, 1, 'single', '题', '[\"甲\", \"乙\"]', '[0]', '')",
    "INSERT INTO quiz_attempts (id, quiz_id, user_id, number, submitted_at, answers, correct_count, question_count, "
    "score_percent, passed) VALUES (1, 1, 1, 1, '2026-11-02 09:30:00+00', '{\"1\": [0]}', 1, 1, 100, TRUE)",
]


def test_upgrade_keeps_old_attempts_and_downgrade_undoes_it(empty_database_url: str) -> None:
    upgrade(empty_database_url, PARENT)
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            sqlite = empty_database_url.startswith("sqlite")
            for statement in LEGACY:
                conn.execute(text(statement.replace("TRUE", "1") if sqlite else statement))
        upgrade(empty_database_url, OURS)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT started_at, submitted_at, status, points, max_points, feedback "
                                    "FROM quiz_attempts WHERE id = 1")).one()
            assert row.started_at is not None and str(row.started_at)[:16] == str(row.submitted_at)[:16]
            assert (row.status, row.points, row.max_points, row.feedback) == ("graded", 0, 0, "")
            quiz = conn.execute(text("SELECT counting, show_explanations, shuffle_options, time_limit_minutes "
                                     "FROM quizzes")).one()
            assert (quiz.counting, quiz.show_explanations, bool(quiz.shuffle_options), quiz.time_limit_minutes) == (
                "highest", "always", False, None)
            question = conn.execute(text("SELECT points, bank_id FROM questions")).one()
            assert (question.points, question.bank_id) == (1, None)
        tables = set(inspect(engine).get_table_names())
        assert {"question_banks", "quiz_draw_rules", "quiz_extensions", "assignments", "assignment_rubric_items",
                "assignment_submissions", "grade_history"} <= tables

        downgrade(empty_database_url, PARENT)
        engine.dispose()
        inspector = inspect(engine)
        assert "question_banks" not in inspector.get_table_names()
        assert "started_at" not in {c["name"] for c in inspector.get_columns("quiz_attempts")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT score_percent FROM quiz_attempts")).scalar_one() == 100

        upgrade(empty_database_url)  # every head, ours among them
        engine.dispose()
        assert "grade_history" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
