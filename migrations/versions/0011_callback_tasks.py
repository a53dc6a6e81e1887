"""call-back tasks (one per leg) and the team → supervisor mapping

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("leg_id", sa.Integer(), sa.ForeignKey("legs.id", name=op.f("fk_callback_tasks_leg_id_legs")),
                  nullable=False),
        sa.Column("call_sid", sa.String(64),
                  sa.ForeignKey("calls.sid", name=op.f("fk_callback_tasks_call_sid_calls")), nullable=False),
        sa.Column("agent_id", sa.String(64),
                  sa.ForeignKey("agents.id", name=op.f("fk_callback_tasks_agent_id_agents")), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", name=op.f("fk_callback_tasks_owner_id_users")),
                  nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("due_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("opened_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("closed_at", store.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_tasks")),
        sa.UniqueConstraint("leg_id", name=op.f("uq_callback_tasks_leg_id")),
    )
    op.create_index("ix_callback_tasks_call_sid", "callback_tasks", ["call_sid"])
    op.create_index("ix_callback_tasks_state_due_at", "callback_tasks", ["state", "due_at"])
    op.create_index("ix_callback_tasks_owner_id_state", "callback_tasks", ["owner_id", "state"])
    op.create_table(
        "team_supervisors",
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", name=op.f("fk_team_supervisors_user_id_users")), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team", name=op.f("pk_team_supervisors")),
    )


def downgrade() -> None:
    op.drop_table("team_supervisors")
    op.drop_index("ix_callback_tasks_owner_id_state", table_name="callback_tasks")
    op.drop_index("ix_callback_tasks_state_due_at", table_name="callback_tasks")
    op.drop_index("ix_callback_tasks_call_sid", table_name="callback_tasks")
    op.drop_table("callback_tasks")
