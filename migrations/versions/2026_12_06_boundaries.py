"""bench_probe leaves deployments: the bench creates its own table (bench/baseline.py)

The baseline endpoint of `make bench` moved under bench/ (issue 15); production code and schemas no longer know it.

Revision ID: 15a_boundaries
Revises: 7a_cancel
Create Date: 2026-12-06 02:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = "15a_boundaries"
down_revision = "7a_cancel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("bench_probe")


def downgrade() -> None:
    op.create_table(
        "bench_probe",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("viewer", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("position_ms", sa.Integer(), nullable=False),
        sa.Column("playing", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bench_probe")),
    )
