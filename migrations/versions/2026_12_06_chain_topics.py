"""ledger hash chain covers each entry's induction topics: existing entries re-stamped with their topics hashed in

Revision ID: 19b_chain_topics
Revises: 8d_dashboards
Create Date: 2026-12-06 06:00:00
"""

from alembic import op

revision = "19b_chain_topics"
down_revision = "8d_dashboards"
branch_labels = None
depends_on = None

# The entry's hashed columns before and after this revision (backend/credits/chain.py, HASHED_COLUMNS, holds
# today's list): "topics" is not a column but the entry's rows of ledger_entry_topics, sorted and comma-separated.
_BEFORE = (
    "id", "user_id", "hours", "category", "level", "source", "source_ref", "course_id", "year", "reverses_id",
    "created_at", "trained_on", "status",
)
_AFTER = (*_BEFORE, "topics")


def upgrade() -> None:
    from backend.credits import chain

    # Only the entries' chain columns change (the append-only triggers let those be written). Like 19_chain, this
    # seals whatever the rows hold: run `portal ledger verify` before upgrading.
    chain.restamp(op.get_bind(), {"ledger_entries": _AFTER})


def downgrade() -> None:
    from backend.credits import chain

    chain.restamp(op.get_bind(), {"ledger_entries": _BEFORE})
