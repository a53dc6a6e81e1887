"""the caller's own words: recordings and their transcriptions, with retention tombstones

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sa.String(64), nullable=False),
        sa.Column("call_sid", sa.String(64), sa.ForeignKey("calls.sid", name=op.f("fk_recordings_call_sid_calls")),
                  nullable=False),
        sa.Column("leg_id", sa.Integer(), sa.ForeignKey("legs.id", name=op.f("fk_recordings_leg_id_legs")),
                  nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("transcription_status", sa.String(16), nullable=True),
        sa.Column("transcription_text", sa.Text(), nullable=True),
        sa.Column("created_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", store.base.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", store.base.UTCDateTime(), nullable=True),
        sa.Column("delete_attempts", sa.Integer(), nullable=False),
        sa.Column("delete_error", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_recordings_recording_sid")),
    )
    op.create_index("ix_recordings_call_sid", "recordings", ["call_sid"])
    op.create_index("ix_recordings_leg_id", "recordings", ["leg_id"])
    op.create_index("ix_recordings_created_at", "recordings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_recordings_created_at", table_name="recordings")
    op.drop_index("ix_recordings_leg_id", table_name="recordings")
    op.drop_index("ix_recordings_call_sid", table_name="recordings")
    op.drop_table("recordings")
