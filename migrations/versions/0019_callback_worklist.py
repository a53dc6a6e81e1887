"""call-back worklist a team finishes: a task per caller (further legs attached), its rank and
day, the users' team, and the one-question checks sent to callers

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_tasks") as batch:
        batch.add_column(sa.Column("rank", sa.Float(), server_default="0", nullable=False))
        batch.add_column(sa.Column("day", sa.Date(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("team", sa.String(64), server_default="", nullable=False))
    op.create_table(
        "callback_task_legs",
        sa.Column("leg_id", sa.Integer(), sa.ForeignKey("legs.id", name=op.f("fk_callback_task_legs_leg_id_legs")),
                  nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey(
            "callback_tasks.id", name=op.f("fk_callback_task_legs_task_id_callback_tasks")), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("added_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("leg_id", name=op.f("pk_callback_task_legs")),
    )
    op.create_index(op.f("ix_callback_task_legs_task_id"), "callback_task_legs", ["task_id"])
    op.create_table(
        "callback_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey(
            "callback_tasks.id", name=op.f("fk_callback_checks_task_id_callback_tasks")), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("to_number", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(240), nullable=False),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("answer", sa.Integer(), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("expires_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("answered_at", store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_checks")),
        sa.UniqueConstraint("task_id", "kind", name=op.f("uq_callback_checks_task_id")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_callback_checks_twilio_sid")),
    )
    op.create_index("ix_callback_checks_to_number_state", "callback_checks", ["to_number", "state"])


def downgrade() -> None:
    op.drop_index("ix_callback_checks_to_number_state", table_name="callback_checks")
    op.drop_table("callback_checks")
    op.drop_index(op.f("ix_callback_task_legs_task_id"), table_name="callback_task_legs")
    op.drop_table("callback_task_legs")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("team")
    with op.batch_alter_table("callback_tasks") as batch:
        batch.drop_column("day")
        batch.drop_column("rank")
