"""fault tolerance (issue 7)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import store.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
