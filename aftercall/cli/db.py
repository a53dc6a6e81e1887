"""``flask db …``: the database schema (Alembic migrations)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from aftercall.cli.common import db
from aftercall.partitions import keep_ahead
from store.base import utcnow
from store.partitions import MONTHS_AHEAD, ensure_ahead

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Apply migrations up to REVISION (at head, then the next months' partitions of calls)."""
    db().upgrade(revision)
    click.echo(f"database at {revision}")
    if revision == "head":
        for name in keep_ahead(db()):
            click.echo(f"created {name}")


@db_cli.command("partitions")
@click.option("--months", default=MONTHS_AHEAD, show_default=True, type=click.IntRange(0, 120),
              help="Months after this one to create.")
def db_partitions(months):
    """Create this month's partition of calls and the next MONTHS' when missing (PostgreSQL;
    idempotent; the worker does it every six hours)."""
    database = db()
    if database.engine.dialect.name != "postgresql":
        click.echo("SQLite: calls is a plain table, nothing to partition")
        return
    with database.engine.begin() as conn:
        created = ensure_ahead(conn, utcnow(), months)
    click.echo("\n".join(f"created {name}" for name in created) or "every partition exists")
