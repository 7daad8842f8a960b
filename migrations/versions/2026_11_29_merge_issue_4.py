"""merge issue 4 branches: uploads, authoring, assessment

Revision ID: 96b139d3a91e
Revises: 4c_assess, 4b_authoring, 4a_uploads
Create Date: 2026-11-29 03:20:57.027783
"""

from alembic import op
import sqlalchemy as sa


revision = '96b139d3a91e'
down_revision = ('4c_assess', '4b_authoring', '4a_uploads')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
