"""ledger hash chain: chain_prev and chain_hash on ledger entries and status events, computed for existing rows

Revision ID: 19_chain
Revises: 8a_viewing_credit
Create Date: 2026-12-06 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "19_chain"
down_revision = "8a_viewing_credit"
branch_labels = None
depends_on = None

# The hashed columns as of this revision (backend/credits/chain.py, HASHED_COLUMNS, holds today's list). A later
# revision that adds a hashed column calls chain.restamp with its own list, as this one does.
_COLUMNS = {
    "ledger_entries": (
        "id", "user_id", "hours", "category", "level", "source", "source_ref", "course_id", "year", "reverses_id",
        "created_at", "trained_on", "status",
    ),
    "ledger_entry_events": ("id", "entry_id", "from_status", "to_status", "reason", "actor_id", "at"),
}


def upgrade() -> None:
    from backend.credits import chain

    for table in ("ledger_entries", "ledger_entry_events"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("chain_prev", sa.String(length=64), nullable=True))
            batch.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    # Status events refuse every UPDATE (migration 5b_ledger); this one fills in the new columns only.
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE ledger_entry_events DISABLE TRIGGER ledger_entry_events_append_only")
    else:
        op.execute("DROP TRIGGER ledger_entry_events_no_update")
    chain.restamp(op.get_bind(), _COLUMNS)
    if postgresql:
        op.execute("ALTER TABLE ledger_entry_events ENABLE TRIGGER ledger_entry_events_append_only")
    else:
        op.execute("""
            CREATE TRIGGER ledger_entry_events_no_update BEFORE UPDATE ON ledger_entry_events
            BEGIN SELECT RAISE(ABORT, 'ledger entry events are append-only'); END""")


def downgrade() -> None:
    for table in ("ledger_entry_events", "ledger_entries"):
        for column in ("chain_hash", "chain_prev"):
            # Natively on SQLite too (3.35+): batch mode would copy the table and lose its append-only triggers.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
