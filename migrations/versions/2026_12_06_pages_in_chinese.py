"""issue 18: notices, corrected external records, the staff number on certificates

Revision ID: 8a_notices
Revises: 8a_viewing_credit
Create Date: 2026-12-06 02:00:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = "8a_notices"
down_revision = "16a_organisation"  # after issues 19 and 16
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("created_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", backend.kit.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notices_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_user_read", "notices", ["user_id", "read_at"], unique=False)
    with op.batch_alter_table("external_records") as batch:
        batch.add_column(sa.Column("resubmits_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_external_records_resubmits_id_external_records"), "external_records", ["resubmits_id"], ["id"]
        )
        batch.create_unique_constraint(batch.f("uq_external_records_resubmits_id"), ["resubmits_id"])
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("staff_no", sa.String(length=32), nullable=True))
    # Certificates issued before: the holder's staff number as recorded now (the best there is).
    op.execute(
        "UPDATE certificates SET staff_no = (SELECT staff_no FROM teacher_profiles "
        "WHERE teacher_profiles.user_id = certificates.user_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("staff_no")
    with op.batch_alter_table("external_records") as batch:
        batch.drop_constraint(batch.f("uq_external_records_resubmits_id"), type_="unique")
        batch.drop_constraint(batch.f("fk_external_records_resubmits_id_external_records"), type_="foreignkey")
        batch.drop_column("resubmits_id")
    op.drop_index("ix_notices_user_read", table_name="notices")
    op.drop_table("notices")
