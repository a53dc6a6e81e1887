"""index calls by caller number and start time, for repeat-call lookups (issue 5)

First-contact resolution and repeat-call flags look for the next call from the same number
(a window function partitioned by from_number, ordered by started_at, sid). This index hands
PostgreSQL the rows already in that order, instead of a sort over every call in the range,
and replaces the single-column from_number index it starts with.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_from_number_started_at", "calls", ["from_number", "started_at", "sid"])
    op.drop_index("ix_calls_from_number", table_name="calls")


def downgrade() -> None:
    op.create_index("ix_calls_from_number", "calls", ["from_number"])
    op.drop_index("ix_calls_from_number_started_at", table_name="calls")
