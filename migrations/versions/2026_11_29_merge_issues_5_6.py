"""merge issue 5 and 6 branches: ledger, offline study, certificates, SSO, security

One head again, so the next migration has one parent.

Revision ID: 6c_merge
Revises: 5b_ledger, 5c_offline, 5d_certs, 6a_sso, 6b_security
Create Date: 2026-11-29 08:25:00
"""

revision = "6c_merge"
down_revision = ("5b_ledger", "5c_offline", "5d_certs", "6a_sso", "6b_security")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
