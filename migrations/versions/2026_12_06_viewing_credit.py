"""the attention-check schedule belongs to the teacher, across playbacks

Revision ID: 8a_viewing_credit
Revises: 13_hours
Create Date: 2026-12-06 01:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "8a_viewing_credit"
down_revision = "13_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learner_state") as batch:
        batch.add_column(sa.Column("prompt_due_in_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learner_state") as batch:
        batch.drop_column("prompt_due_in_ms")
