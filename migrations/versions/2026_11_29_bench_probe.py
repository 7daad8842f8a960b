"""bench probe: the table the baseline endpoint of `make bench` inserts into (one row per request)

Revision ID: eec20265e0b5
Revises: dd872b905396
Create Date: 2026-11-29 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'eec20265e0b5'
down_revision = 'dd872b905396'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bench_probe',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('viewer', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('position_ms', sa.Integer(), nullable=False),
    sa.Column('playing', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bench_probe'))
    )


def downgrade() -> None:
    op.drop_table('bench_probe')
