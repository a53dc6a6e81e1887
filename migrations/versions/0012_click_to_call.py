"""click-to-call: where a supervisor is rung (users.ring_to) and each call-back's attempts

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("ring_to", sa.String(80), nullable=False, server_default=""))
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(),
                  sa.ForeignKey("callback_tasks.id", name=op.f("fk_callback_attempts_task_id_callback_tasks")),
                  nullable=False),
        sa.Column("active_task_id", sa.Integer(), nullable=True),
        sa.Column("active_ring_to", sa.String(80), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", name=op.f("fk_callback_attempts_user_id_users")),
                  nullable=False),
        sa.Column("ring_to", sa.String(80), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("attempt_started_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("caller_sid", sa.String(64), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(240), nullable=False),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.Column("call_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
        sa.UniqueConstraint("active_task_id", name=op.f("uq_callback_attempts_active_task_id")),
        sa.UniqueConstraint("active_ring_to", name=op.f("uq_callback_attempts_active_ring_to")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_callback_attempts_twilio_sid")),
    )
    op.create_index("ix_callback_attempts_task_id", "callback_attempts", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_task_id", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("ring_to")
