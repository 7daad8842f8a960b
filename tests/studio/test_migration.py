"""The authoring migration upgrades over existing courses and downgrades cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from backend.migrate import downgrade, upgrade


def test_authoring_migration_keeps_existing_courses_and_is_reversible(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url, "4a0_owners")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO courses (code, version, title, summary, description_md, tier, credit_hours,"
                " credit_category, status, created_at) VALUES ('OLD-01', 1, '旧课程', '', '', 'horizon', 2.0,"
                " 'knowledge_skills', 'published', CURRENT_TIMESTAMP)"))

        upgrade(url, "4b_authoring")  # this branch only (the merge revision above it joins the siblings)
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("courses")}
            assert {"cover_key", "code_locked"} <= columns
            assert {"pages", "poster_key"} <= {c["name"] for c in inspect(conn).get_columns("lessons")}
            assert "course_reviews" in inspect(conn).get_table_names()
            row = conn.execute(text("SELECT code_locked, cover_key FROM courses WHERE code = 'OLD-01'")).one()
            assert not row.code_locked and row.cover_key is None

        downgrade(url, "4a0_owners")
        with engine.connect() as conn:
            assert "course_reviews" not in inspect(conn).get_table_names()
            assert "code_locked" not in {c["name"] for c in inspect(conn).get_columns("courses")}
            assert conn.execute(text("SELECT title FROM courses WHERE code = 'OLD-01'")).scalar() == "旧课程"
            heads = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
            assert "4b_authoring" not in heads

        upgrade(url, "4b_authoring")
        with engine.connect() as conn:
            assert "4b_authoring" in {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()
