"""calls partitioned by month of started_at on PostgreSQL (SQLite: no change)

An existing table is not copied: it is attached whole as the partition ``calls_legacy`` for
everything before the first monthly partition, after a CHECK constraint proving its range was
added NOT VALID and validated outside the migration's transaction (no lock that blocks reads
or writes during the scan), so ATTACH needs no scan. The foreign keys to ``calls.sid`` go: a
partitioned table's unique keys must hold the partition key. What each step locks and for how
long: docs/operators.md, "Partitioning".

Revision ID: 0022
Revises: 0021
"""
from datetime import timedelta

from alembic import op
from sqlalchemy import text

from store.base import utcnow
from store.partitions import DEFAULT, LEGACY, MONTHS_AHEAD, ensure_months, month_start

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# (table, column) of every foreign key to calls.sid, named as the earlier migrations named them.
REFERENCES = (("queue_entries", "call_sid"), ("legs", "call_sid"), ("survey_answers", "call_sid"),
              ("followups", "call_sid"), ("callback_tasks", "call_sid"), ("recordings", "call_sid"))
INDEXES = {"ix_calls_started_at": "(started_at)", "ix_calls_from_number_started_at": "(from_number, started_at, sid)"}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    now = utcnow()
    latest = bind.scalar(text("SELECT max(started_at) FROM calls"))
    # Rows written while this runs (started_at is the server's clock, or Twilio's, never
    # ahead) stay below the bound even when the month turns meanwhile.
    bound = month_start(max(now + timedelta(days=1), latest or now), 1)
    if latest is not None:
        with op.get_context().autocommit_block():   # what an interrupted run left is redone
            op.execute("ALTER TABLE calls DROP CONSTRAINT IF EXISTS calls_legacy_bound")
            op.execute(f"ALTER TABLE calls ADD CONSTRAINT calls_legacy_bound"
                       f" CHECK (started_at IS NOT NULL AND started_at < '{bound.isoformat()}') NOT VALID")
            op.execute("ALTER TABLE calls VALIDATE CONSTRAINT calls_legacy_bound")
            op.execute("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS calls_legacy_sid_started_at"
                       " ON calls (sid, started_at)")
    for table, name in bind.execute(text("SELECT conrelid::regclass::text, conname FROM pg_constraint"
                                         " WHERE contype = 'f' AND confrelid = 'calls'::regclass")).all():
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    op.execute("ALTER TABLE calls DROP CONSTRAINT pk_calls")
    if latest is not None:   # the new key on the index built concurrently above: ATTACH matches it, builds none
        op.execute(f"ALTER TABLE calls ADD CONSTRAINT {LEGACY}_pkey PRIMARY KEY"
                   " USING INDEX calls_legacy_sid_started_at")
    op.execute(f"ALTER TABLE calls RENAME TO {LEGACY}")
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RENAME TO {index.replace('ix_calls', LEGACY)}")
    op.execute(f"CREATE TABLE calls (LIKE {LEGACY} INCLUDING DEFAULTS) PARTITION BY RANGE (started_at)")
    op.execute("ALTER TABLE calls ADD CONSTRAINT pk_calls PRIMARY KEY (sid, started_at)")
    for index, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON calls {columns}")
    if latest is None:
        op.execute(f"DROP TABLE {LEGACY}")
        first = now
    else:
        op.execute(f"ALTER TABLE calls ATTACH PARTITION {LEGACY}"
                   f" FOR VALUES FROM (MINVALUE) TO ('{bound.isoformat()}')")
        op.execute(f"ALTER TABLE {LEGACY} DROP CONSTRAINT calls_legacy_bound")
        first = bound
    op.execute(f"CREATE TABLE {DEFAULT} PARTITION OF calls DEFAULT")
    last = month_start(now, MONTHS_AHEAD)
    ensure_months(bind, first, max(1, last.year * 12 + last.month - first.year * 12 - first.month + 1),
                  lock_timeout=None)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE TABLE calls_plain (LIKE calls INCLUDING DEFAULTS)")
    op.execute("INSERT INTO calls_plain SELECT * FROM calls")
    op.execute("DROP TABLE calls")
    op.execute("ALTER TABLE calls_plain RENAME TO calls")
    op.execute("ALTER TABLE calls ADD CONSTRAINT pk_calls PRIMARY KEY (sid)")
    for index, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON calls {columns}")
    for table, column in REFERENCES:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_call_sid_calls"
                   f" FOREIGN KEY ({column}) REFERENCES calls (sid)")
