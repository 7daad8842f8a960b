"""ledger workflow: status events, external records, queue indexes, append-only triggers

Revision ID: 5b_ledger
Revises: 5a_records
Create Date: 2026-11-29 04:40:00
"""

import sqlalchemy as sa
from alembic import op

import backend.kit.models

revision = "5b_ledger"
down_revision = "5a_records"
branch_labels = None
depends_on = None

# What a ledger entry says never changes (backend/credits/models.py, IMMUTABLE_COLUMNS); rows are never deleted.
_IMMUTABLE = (
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


def _triggers_up() -> None:
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _IMMUTABLE)
        op.execute(f"""
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    RAISE EXCEPTION 'ledger entries are never deleted';
                END IF;
                IF {changed} THEN
                    RAISE EXCEPTION 'ledger entries are append-only: only the status moves';
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()""")
        op.execute("""
            CREATE FUNCTION ledger_entry_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger entry events are append-only';
            END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER ledger_entry_events_append_only BEFORE UPDATE OR DELETE ON ledger_entry_events
            FOR EACH ROW EXECUTE FUNCTION ledger_entry_events_append_only()""")
    else:
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _IMMUTABLE)
        op.execute(f"""
            CREATE TRIGGER ledger_entries_no_rewrite BEFORE UPDATE ON ledger_entries
            WHEN {changed}
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: only the status moves'); END""")
        op.execute("""
            CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are never deleted'); END""")
        op.execute("""
            CREATE TRIGGER ledger_entry_events_no_update BEFORE UPDATE ON ledger_entry_events
            BEGIN SELECT RAISE(ABORT, 'ledger entry events are append-only'); END""")
        op.execute("""
            CREATE TRIGGER ledger_entry_events_no_delete BEFORE DELETE ON ledger_entry_events
            BEGIN SELECT RAISE(ABORT, 'ledger entry events are append-only'); END""")


def _triggers_down() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_entry_events_append_only ON ledger_entry_events")
        op.execute("DROP FUNCTION ledger_entry_events_append_only()")
        op.execute("DROP TRIGGER ledger_entries_append_only ON ledger_entries")
        op.execute("DROP FUNCTION ledger_entries_append_only()")
    else:
        for name in (
            "ledger_entry_events_no_delete",
            "ledger_entry_events_no_update",
            "ledger_entries_no_delete",
            "ledger_entries_no_rewrite",
        ):
            op.execute(f"DROP TRIGGER {name}")


def upgrade() -> None:
    op.create_table(
        "ledger_entry_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_ledger_entry_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_ledger_entry_events_entry_id_ledger_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry_events")),
    )
    with op.batch_alter_table("ledger_entry_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entry_events_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "external_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("earned_on", sa.Date(), nullable=False),
        sa.Column("evidence_key", sa.String(length=300), nullable=False),
        sa.Column("evidence_name", sa.String(length=200), nullable=False),
        sa.Column("evidence_type", sa.String(length=64), nullable=False),
        sa.Column("evidence_size", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_external_records_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_records")),
    )
    with op.batch_alter_table("external_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_records_user_id"), ["user_id"], unique=False)

    # Indexes only (no batch table copy): SQLite would otherwise rebuild the table and lose nothing but time.
    op.create_index("ix_ledger_entries_status_created", "ledger_entries", ["status", "created_at", "id"])
    op.create_index("ix_ledger_entries_status_year", "ledger_entries", ["status", "year", "created_at", "id"])
    op.create_index("ix_ledger_entries_year_created", "ledger_entries", ["year", "created_at", "id"])
    op.create_index("ix_ledger_entries_created", "ledger_entries", ["created_at", "id"])
    op.create_index("ix_ledger_entries_user_status", "ledger_entries", ["user_id", "status"])
    op.create_index("uq_ledger_entries_reverses_id", "ledger_entries", ["reverses_id"], unique=True)
    _triggers_up()


def downgrade() -> None:
    _triggers_down()
    op.drop_index("uq_ledger_entries_reverses_id", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_user_status", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_created", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_year_created", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_status_year", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_status_created", table_name="ledger_entries")
    with op.batch_alter_table("external_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_records_user_id"))
    op.drop_table("external_records")
    with op.batch_alter_table("ledger_entry_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_events_entry_id"))
    op.drop_table("ledger_entry_events")
