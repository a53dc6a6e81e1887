"""agents as dashboard users (users.agent_id, api_tokens.agent_id), invitations, disputes

Revision ID: 0018
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("agent_id", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_users_agent_id", ["agent_id"])
        batch.create_foreign_key("fk_users_agent_id_agents", "agents", ["agent_id"], ["id"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("agent_id", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_api_tokens_agent_id_agents", "agents", ["agent_id"], ["id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("used_at", store.base.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_invitations_user_id", "invitations", ["user_id"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("flag_id", sa.Integer(), sa.ForeignKey("flags.id"), nullable=False),
        sa.Column("agent_id", sa.String(64), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("occurred_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("decided_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
    )
    for column in ("flag_id", "agent_id", "occurred_at", "state"):
        op.create_index(f"ix_disputes_{column}", "disputes", [column])


def downgrade() -> None:
    op.drop_table("disputes")
    op.drop_index("ix_invitations_user_id", "invitations")
    op.drop_table("invitations")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint("fk_api_tokens_agent_id_agents", type_="foreignkey")
        batch.drop_column("agent_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_agent_id_agents", type_="foreignkey")
        batch.drop_constraint("uq_users_agent_id", type_="unique")
        batch.drop_column("agent_id")
