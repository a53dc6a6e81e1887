"""The Alembic migrations build exactly the schema the models describe, on both backends,
and step down and up again: a model change without its migration fails here."""
from __future__ import annotations

from datetime import timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from store.db import alembic_config
from store.models import Base
from store.base import utcnow
from store.partitions import DEFAULT, LEGACY, partition_name, partitions, schema_check_filters
from tests.conftest import postgresql_only


def test_migrations_match_the_models(database):
    with database.engine.connect() as conn:
        opts = {"compare_type": True, **schema_check_filters(conn.dialect.name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == []


def test_every_migration_steps_down_and_up(database):
    cfg = alembic_config(database.url)
    database.dispose()
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts=schema_check_filters(conn.dialect.name)),
                                Base.metadata) == []


@postgresql_only
def test_0022_partitions_a_populated_database_without_losing_rows(database):
    """The old table becomes the partition before the first month, its rows and the children's
    intact; months after it get their own partitions and a month nobody created takes DEFAULT."""
    cfg = alembic_config(database.url)
    database.dispose()
    command.downgrade(cfg, "0021")
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO calls (sid, account_sid, from_number, to_number, after_hours, status,"
                          " started_at, time_source, created_at) SELECT 'CA' || i, '', '+1555' || i, '', false,"
                          " 'completed', now() - i * interval '1 day', 'twilio', now() FROM generate_series(1, 400) i"))
        conn.execute(text("INSERT INTO queue_entries (call_sid, visit, queue, reason, priority, state, created_at)"
                          " SELECT sid, 1, 'billing', 'menu', 0, 'left', now() FROM calls"))
    command.upgrade(cfg, "head")
    with database.engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM calls")) == 400
        assert conn.scalar(text("SELECT count(*) FROM calls_legacy")) == 400
        assert conn.scalar(text("SELECT count(*) FROM calls JOIN queue_entries ON call_sid = sid")) == 400
        names = partitions(conn)
        bound = names[LEGACY][1]
        assert names[LEGACY][0] is None and bound > utcnow()
        assert partition_name(bound) in names and names[DEFAULT] is None
        conn.execute(text("INSERT INTO calls (sid, account_sid, from_number, to_number, after_hours, status,"
                          " started_at, time_source, created_at) VALUES ('CAnext', '', '', '', false, 'completed',"
                          " :at, 'twilio', now()), ('CAfar', '', '', '', false, 'completed', :far, 'twilio', now())"),
                     {"at": bound + timedelta(days=3), "far": bound.replace(year=bound.year + 9)})
        placed = dict(conn.execute(text("SELECT sid, tableoid::regclass::text FROM calls"
                                        " WHERE sid IN ('CAnext', 'CAfar')")).all())
    assert placed == {"CAnext": partition_name(bound), "CAfar": DEFAULT}
