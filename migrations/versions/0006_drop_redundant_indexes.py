"""drop indexes that no lookup needs: fewer B-trees to update on every webhook

``queue_entries(call_sid)``, ``legs(call_sid)``, ``webhook_events(call_sid)`` and
``survey_answers(leg_id)`` are the leading column of a unique constraint on the same table
(``(call_sid, visit)``, ``(call_sid, seq)``, ``(call_sid, step)``, ``(leg_id, question)``),
whose index serves the same lookups. ``survey_answers(agent_id)`` is never searched on
(scorecards reach answers through their legs), and agents are never deleted, so its foreign
key needs no index either. Three of the five were updated on every survey answer.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

REDUNDANT = (("queue_entries", "call_sid"), ("legs", "call_sid"), ("webhook_events", "call_sid"),
             ("survey_answers", "leg_id"), ("survey_answers", "agent_id"))


def upgrade() -> None:
    for table, column in REDUNDANT:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def downgrade() -> None:
    for table, column in REDUNDANT:
        op.create_index(f"ix_{table}_{column}", table, [column])
