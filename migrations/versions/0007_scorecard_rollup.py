"""daily scorecard rollup: the counts of each settled UTC day (scoring.rollup)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import store.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COUNTS = ("handled", "offered", "talk_seconds", "completed", "adequate_n", "adequate_yes", "csat_n", "csat_top",
          "rating_sum", "rating_sq", "fcr_n", "fcr_repeats")


def upgrade() -> None:
    op.create_table(
        "scorecard_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("reach_until", sa.Date(), nullable=False),
        sa.Column("computed_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_scorecard_days")),
    )
    op.create_table(
        "scorecard_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), sa.ForeignKey("scorecard_days.day", ondelete="CASCADE",
                  name=op.f("fk_scorecard_cells_day_scorecard_days")), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(32), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("reason", sa.String(16), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_cells")),
        sa.UniqueConstraint("day", "agent_id", "queue", "language", "reason", name=op.f("uq_scorecard_cells_day")),
    )


def downgrade() -> None:
    op.drop_table("scorecard_cells")
    op.drop_table("scorecard_days")
