"""survey answers record the channel they came by: the in-call keypad, an SMS reply, a call-back

Every answer stored so far came from the in-call survey, so existing rows are ``call``.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_answers") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=8), nullable=False, server_default="call"))


def downgrade() -> None:
    with op.batch_alter_table("survey_answers") as batch:
        batch.drop_column("channel")
