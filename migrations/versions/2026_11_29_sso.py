"""sso: provider identities linked to accounts, logins in flight, scopes on API tokens

Revision ID: 6a_sso
Revises: 5a_records
Create Date: 2026-11-29 04:45:00
"""

from alembic import op
import sqlalchemy as sa

import backend.kit.models


revision = "6a_sso"
down_revision = "5a_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", backend.kit.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_identities_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_user_identities_issuer_subject")),
    )
    with op.batch_alter_table("user_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sso_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend.kit.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_login_attempts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_login_attempts_state_hash")),
    )
    with op.batch_alter_table("sso_login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_login_attempts_expires_at"), ["expires_at"], unique=False)

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
    with op.batch_alter_table("sso_login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_login_attempts_expires_at"))
    op.drop_table("sso_login_attempts")
    with op.batch_alter_table("user_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_identities_user_id"))
    op.drop_table("user_identities")
