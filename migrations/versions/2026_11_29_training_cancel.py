"""offline sessions can be cancelled

Revision ID: 7a_cancel
Revises: 6c_merge
Create Date: 2026-11-29 09:15:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = "7a_cancel"
down_revision = "6c_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training_sessions") as batch:
        batch.add_column(sa.Column("cancelled_at", backend.kit.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("training_sessions") as batch:
        batch.drop_column("cancel_reason")
        batch.drop_column("cancelled_at")
