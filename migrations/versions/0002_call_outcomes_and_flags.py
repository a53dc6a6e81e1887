"""call outcomes and flags (issue 4)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import store.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('leg_id', sa.Integer(), nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('rule_version', sa.String(length=32), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by', sa.String(length=120), nullable=True),
    sa.Column('reviewed_at', store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('created_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_flags_agent_id_agents')),
    sa.ForeignKeyConstraint(['leg_id'], ['legs.id'], name=op.f('fk_flags_leg_id_legs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags')),
    sa.UniqueConstraint('key', name=op.f('uq_flags_key'))
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flags_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flags_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_flags_leg_id'), ['leg_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flags_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flags_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flags_state'))
        batch_op.drop_index(batch_op.f('ix_flags_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_flags_leg_id'))
        batch_op.drop_index(batch_op.f('ix_flags_kind'))
        batch_op.drop_index(batch_op.f('ix_flags_agent_id'))
    op.drop_table('flags')
