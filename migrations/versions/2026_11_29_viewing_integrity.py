"""viewing integrity: pending credit, attention prompts, one lease per teacher, daily budgets

Revision ID: dd872b905396
Revises: 96da77f25f91
Create Date: 2026-11-29 01:52:48.008470
"""

from alembic import op
import sqlalchemy as sa


revision = 'dd872b905396'
down_revision = '96da77f25f91'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('learner_state',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('active_playback_id', sa.String(length=36), nullable=True),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('day_credited_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_learner_state_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_learner_state'))
    )
    op.create_table('attention_prompts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('playback_id', sa.String(length=36), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('confirmed_ms', sa.Integer(), nullable=False),
    sa.Column('dropped_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['playback_id'], ['playback_sessions.id'], name=op.f('fk_attention_prompts_playback_id_playback_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attention_prompts'))
    )
    with op.batch_alter_table('attention_prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attention_prompts_playback_id'), ['playback_id'], unique=False)

    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_ms', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('elapsed_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('rejected_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('day_credited_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))

    with op.batch_alter_table('playback_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duration_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('last_client_ms', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('bank_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('pending_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('pending_coverage', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('known_coverage', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('rejected_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.add_column(sa.Column('prompt_state', sa.String(length=8), nullable=False, server_default=sa.text("'none'")))
        batch_op.add_column(sa.Column('prompt_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('prompt_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('prompt_deadline', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('holds_lease', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('budget_day', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('day_budget_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('lesson_budget_ms', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.add_column(sa.Column('last_note', sa.String(length=32), nullable=True))

    


def downgrade() -> None:
    
    with op.batch_alter_table('playback_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_note')
        batch_op.drop_column('lesson_budget_ms')
        batch_op.drop_column('day_budget_ms')
        batch_op.drop_column('budget_day')
        batch_op.drop_column('holds_lease')
        batch_op.drop_column('prompt_deadline')
        batch_op.drop_column('prompt_due_at')
        batch_op.drop_column('prompt_id')
        batch_op.drop_column('prompt_state')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('rejected_ms')
        batch_op.drop_column('known_coverage')
        batch_op.drop_column('pending_coverage')
        batch_op.drop_column('pending_ms')
        batch_op.drop_column('bank_ms')
        batch_op.drop_column('last_client_ms')
        batch_op.drop_column('duration_ms')

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_column('day_credited_ms')
        batch_op.drop_column('day')

    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.drop_column('rejected_ms')
        batch_op.drop_column('elapsed_ms')
        batch_op.drop_column('client_ms')

    with op.batch_alter_table('attention_prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attention_prompts_playback_id'))

    op.drop_table('attention_prompts')
    op.drop_table('learner_state')
    
