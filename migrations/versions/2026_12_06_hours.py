"""hours mean one thing: training date on ledger entries, induction topic tags, corrections' status frozen

Revision ID: 13_hours
Revises: 7a_cancel
Create Date: 2026-12-06 02:00:00

- `ledger_entries.trained_on`: the day of the training, apart from `created_at` (when the entry was written).
  Backfilled: an external record's date, an offline session's day, a correction's original's date, otherwise the
  day (Asia/Shanghai) the entry was written — which is the completion day of a course.
- `ledger_entry_topics`: the induction topics an entry covers. Backfilled for the completions (and corrections) of
  Horizon courses from the course's topics. `external_records.topic`, `training_sessions.topic`: the topic a teacher
  or an admin names, copied onto the entry's tags when it is written.
- Triggers: `trained_on` joins the columns that never change; a correction's status never moves; topic tags are
  append-only. The triggers are dropped and recreated (SQLite's table copy for the NOT NULL column drops them).
"""

import sqlalchemy as sa
from alembic import op

revision = "13_hours"
down_revision = "15a_boundaries"  # after issue 15's, which it does not touch
branch_labels = None
depends_on = None

_OLD_IMMUTABLE = (
    "user_id",
    "hours",
    "category",
    "level",
    "source",
    "source_ref",
    "course_id",
    "year",
    "reverses_id",
    "created_at",
)
_IMMUTABLE = (*_OLD_IMMUTABLE, "trained_on")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_entry_triggers() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries")
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_append_only()")
    else:
        for name in ("ledger_entries_no_rewrite", "ledger_entries_no_delete", "ledger_entries_correction_status"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _entry_triggers(columns: tuple[str, ...], *, corrections: bool) -> None:
    if _postgresql():
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
        frozen = (
            """
                IF OLD.reverses_id IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status THEN
                    RAISE EXCEPTION 'the status of a correction never changes';
                END IF;"""
            if corrections
            else ""
        )
        op.execute(f"""
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    RAISE EXCEPTION 'ledger entries are never deleted';
                END IF;
                IF {changed} THEN
                    RAISE EXCEPTION 'ledger entries are append-only: only the status moves';
                END IF;{frozen}
                RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()""")
    else:
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
        op.execute(f"""
            CREATE TRIGGER ledger_entries_no_rewrite BEFORE UPDATE ON ledger_entries
            WHEN {changed}
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: only the status moves'); END""")
        op.execute("""
            CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are never deleted'); END""")
        if corrections:
            op.execute("""
                CREATE TRIGGER ledger_entries_correction_status BEFORE UPDATE OF status ON ledger_entries
                WHEN OLD.reverses_id IS NOT NULL AND NEW.status IS NOT OLD.status
                BEGIN SELECT RAISE(ABORT, 'the status of a correction never changes'); END""")


def _topic_triggers_up() -> None:
    if _postgresql():
        op.execute("""
            CREATE FUNCTION ledger_entry_topics_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger entry topics are append-only';
            END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER ledger_entry_topics_append_only BEFORE UPDATE OR DELETE ON ledger_entry_topics
            FOR EACH ROW EXECUTE FUNCTION ledger_entry_topics_append_only()""")
    else:
        op.execute("""
            CREATE TRIGGER ledger_entry_topics_no_update BEFORE UPDATE ON ledger_entry_topics
            BEGIN SELECT RAISE(ABORT, 'ledger entry topics are append-only'); END""")
        op.execute("""
            CREATE TRIGGER ledger_entry_topics_no_delete BEFORE DELETE ON ledger_entry_topics
            BEGIN SELECT RAISE(ABORT, 'ledger entry topics are append-only'); END""")


def _topic_triggers_down() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER ledger_entry_topics_append_only ON ledger_entry_topics")
        op.execute("DROP FUNCTION ledger_entry_topics_append_only()")
    else:
        op.execute("DROP TRIGGER ledger_entry_topics_no_update")
        op.execute("DROP TRIGGER ledger_entry_topics_no_delete")


def upgrade() -> None:
    _drop_entry_triggers()
    op.add_column("ledger_entries", sa.Column("trained_on", sa.Date(), nullable=True))
    local_day = (
        "(created_at AT TIME ZONE 'Asia/Shanghai')::date" if _postgresql() else "date(created_at, '+8 hours')"
    )
    op.execute(f"UPDATE ledger_entries SET trained_on = {local_day}")
    op.execute("""
        UPDATE ledger_entries SET trained_on = (
            SELECT r.earned_on FROM external_records r WHERE 'external:' || r.id = ledger_entries.source_ref)
        WHERE source = 'external' AND EXISTS (
            SELECT 1 FROM external_records r WHERE 'external:' || r.id = ledger_entries.source_ref)""")
    op.execute("""
        UPDATE ledger_entries SET trained_on = (
            SELECT t.day FROM training_sessions t WHERE ledger_entries.source_ref LIKE 'training:' || t.id || ':user:%')
        WHERE source = 'offline_session' AND EXISTS (
            SELECT 1 FROM training_sessions t WHERE ledger_entries.source_ref LIKE 'training:' || t.id || ':user:%')""")
    op.execute("""
        UPDATE ledger_entries SET trained_on = (
            SELECT o.trained_on FROM ledger_entries o WHERE o.id = ledger_entries.reverses_id)
        WHERE reverses_id IS NOT NULL""")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.alter_column("trained_on", existing_type=sa.Date(), nullable=False)
    op.create_index("ix_ledger_entries_user_trained", "ledger_entries", ["user_id", "trained_on"])

    op.create_table(
        "ledger_entry_topics",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_ledger_entry_topics_entry_id_ledger_entries")
        ),
        sa.PrimaryKeyConstraint("entry_id", "topic", name=op.f("pk_ledger_entry_topics")),
    )
    op.execute("""
        INSERT INTO ledger_entry_topics (entry_id, topic)
        SELECT e.id, ct.topic FROM ledger_entries e
        JOIN courses c ON c.id = e.course_id
        JOIN course_topics ct ON ct.course_id = e.course_id
        WHERE c.tier = 'horizon'""")
    with op.batch_alter_table("external_records") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=32), nullable=True))
    with op.batch_alter_table("training_sessions") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=32), nullable=True))

    _entry_triggers(_IMMUTABLE, corrections=True)
    _topic_triggers_up()


def downgrade() -> None:
    _topic_triggers_down()
    _drop_entry_triggers()
    with op.batch_alter_table("training_sessions") as batch:
        batch.drop_column("topic")
    with op.batch_alter_table("external_records") as batch:
        batch.drop_column("topic")
    op.drop_table("ledger_entry_topics")
    op.drop_index("ix_ledger_entries_user_trained", table_name="ledger_entries")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("trained_on")
    _entry_triggers(_OLD_IMMUTABLE, corrections=False)
