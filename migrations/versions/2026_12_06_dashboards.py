"""dashboards: month-end and live snapshots of the supervision figures, and background jobs

Revision ID: 8d_dashboards
Revises: 16a_organisation
Create Date: 2026-12-06 02:10:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = "8d_dashboards"
down_revision = "8a_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("built_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("build_ms", sa.Integer(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshots")),
        sa.UniqueConstraint("kind", "year", "as_of", name=op.f("uq_dashboard_snapshots_kind_year_as_of")),
    )
    op.create_table(
        "dashboard_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["dashboard_snapshots.id"],
            name=op.f("fk_dashboard_rows_snapshot_id_dashboard_snapshots"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_dashboard_rows_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_rows")),
    )
    op.create_index("ix_dashboard_rows_snapshot_tier", "dashboard_rows", ["snapshot_id", "tier"])
    op.create_table(
        "dashboard_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("result_key", sa.String(length=300), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("touched_at", backend.kit.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", backend.kit.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_dashboard_jobs_requested_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_jobs")),
    )
    op.create_index("ix_dashboard_jobs_key_state", "dashboard_jobs", ["key", "state"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_jobs_key_state", table_name="dashboard_jobs")
    op.drop_table("dashboard_jobs")
    op.drop_index("ix_dashboard_rows_snapshot_tier", table_name="dashboard_rows")
    op.drop_table("dashboard_rows")
    op.drop_table("dashboard_snapshots")
