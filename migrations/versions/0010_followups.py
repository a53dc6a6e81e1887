"""follow-up surveys: one row per leg, the do-not-contact list; the rollup counts the answer
channel and the follow-up funnel

The scorecard rollup is a cache of counts: its days are dropped here (a cell's shape
changes) and the next refresh counts them again under rollup version 2.

Revision ID: 0010
Revises: 0008 (the lead chains it after any other 0009 at merge)
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None

FUNNEL = ("legs", "incall_completed", "followups_sent", "followups_answered")


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("leg_id", sa.Integer(), sa.ForeignKey("legs.id", name=op.f("fk_followups_leg_id_legs")),
                  nullable=False),
        sa.Column("call_sid", sa.String(64), sa.ForeignKey("calls.sid", name=op.f("fk_followups_call_sid_calls")),
                  nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("to_number", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reasks", sa.Integer(), nullable=False),
        sa.Column("send_after", store.base.UTCDateTime(), nullable=True),
        sa.Column("expires_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("send_attempts", sa.Integer(), nullable=False),
        sa.Column("attempt_started_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("twilio_status", sa.String(20), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("sent_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("answered_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
        sa.UniqueConstraint("leg_id", name=op.f("uq_followups_leg_id")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_followups_twilio_sid")),
    )
    op.create_index("ix_followups_state_send_after", "followups", ["state", "send_after"])
    op.create_index("ix_followups_to_number_state", "followups", ["to_number", "state"])
    op.create_table(
        "opt_outs",
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("keyword", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_opt_outs")),
    )
    op.execute("DELETE FROM scorecard_cells")
    op.execute("DELETE FROM scorecard_days")
    with op.batch_alter_table("scorecard_cells") as batch:
        batch.drop_constraint("uq_scorecard_cells_day", type_="unique")
        batch.add_column(sa.Column("channel", sa.String(8), nullable=False, server_default=""))
        for name in FUNNEL:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.create_unique_constraint("uq_scorecard_cells_day",
                                       ["day", "agent_id", "queue", "language", "reason", "channel"])


def downgrade() -> None:
    op.execute("DELETE FROM scorecard_cells")
    op.execute("DELETE FROM scorecard_days")
    with op.batch_alter_table("scorecard_cells") as batch:
        batch.drop_constraint("uq_scorecard_cells_day", type_="unique")
        for name in ("channel", *FUNNEL):
            batch.drop_column(name)
        batch.create_unique_constraint("uq_scorecard_cells_day", ["day", "agent_id", "queue", "language", "reason"])
    op.drop_table("opt_outs")
    op.drop_index("ix_followups_to_number_state", table_name="followups")
    op.drop_index("ix_followups_state_send_after", table_name="followups")
    op.drop_table("followups")
