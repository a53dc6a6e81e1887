"""``flask db …``: the database schema (Alembic migrations)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from aftercall.cli.common import db

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Apply migrations up to REVISION."""
    db().upgrade(revision)
    click.echo(f"database at {revision}")
