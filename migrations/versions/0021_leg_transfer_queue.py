"""an agent leg remembers the queue its agent transferred the caller to (the transfer-out finding)

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("legs") as batch:
        batch.add_column(sa.Column("transfer_queue", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("legs") as batch:
        batch.drop_column("transfer_queue")
