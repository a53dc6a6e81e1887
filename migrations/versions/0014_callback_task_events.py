"""call-back tasks remember when their going overdue was announced (the task event webhook)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

import store.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_tasks") as batch:
        batch.add_column(sa.Column("overdue_at", store.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callback_tasks") as batch:
        batch.drop_column("overdue_at")
