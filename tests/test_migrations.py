"""The Alembic migrations build exactly the schema the models describe, on both backends,
and step down and up again: a model change without its migration fails here."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.db import alembic_config
from store.models import Base


def test_migrations_match_the_models(database):
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_every_migration_steps_down_and_up(database):
    cfg = alembic_config(database.url)
    database.dispose()
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
