"""pay periods, scorecards and exports (issue 5)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import store.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pay_periods",
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("starts_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("locked_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("locked_by", sa.String(120), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.Column("checksum", sa.String(64), nullable=True),
        sa.Column("settled", sa.JSON(), nullable=True),
        sa.Column("settled_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pay_periods")),
    )
    op.create_index(op.f("ix_pay_periods_starts_at"), "pay_periods", ["starts_at"])
    op.create_table(
        "scorecard_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(16), sa.ForeignKey("pay_periods.key",
                  name=op.f("fk_scorecard_cache_period_key_pay_periods")), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("computed_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_cache")),
        sa.UniqueConstraint("period_key", "team", name=op.f("uq_scorecard_cache_period_key")),
    )
    op.create_index(op.f("ix_scorecard_cache_period_key"), "scorecard_cache", ["period_key"])
    op.create_table(
        "export_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(16), sa.ForeignKey("pay_periods.key",
                  name=op.f("fk_export_files_period_key_pay_periods")), nullable=False),
        sa.Column("fmt", sa.String(8), nullable=False),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_files")),
        sa.UniqueConstraint("job_id", name=op.f("uq_export_files_job_id")),
    )
    op.create_index(op.f("ix_export_files_period_key"), "export_files", ["period_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_export_files_period_key"), table_name="export_files")
    op.drop_table("export_files")
    op.drop_index(op.f("ix_scorecard_cache_period_key"), table_name="scorecard_cache")
    op.drop_table("scorecard_cache")
    op.drop_index(op.f("ix_pay_periods_starts_at"), table_name="pay_periods")
    op.drop_table("pay_periods")
