"""``flask export …``: bonus files and period locks from the command line (runs in-process)."""
from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from scoring.payroll.exports import export_period
from scoring.payroll.periods import PeriodError, list_periods, lock_period
from store.payroll import EXPORT_FORMATS

export_cli = AppGroup("export", help="Bonus exports for payroll and pay-period locks.")


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


@export_cli.command("bonus")
@click.option("--period", "period_key", required=True, help="Pay period, e.g. 2026-11")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: the export's own name in the current directory)")
@click.option("--actor", default=None, help="Who exports, for the audit log (default: cli:<user>)")
def bonus(period_key, fmt, output, actor):
    """Write a period's bonus file and print its path and SHA-256 checksum."""
    try:
        with current_app.extensions["db"].session() as s:
            result = export_period(s, period_key, fmt, _actor(actor))
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from exc
    path = output or Path(result.filename)
    path.write_bytes(result.bytes)
    click.echo(f"{path}  sha256={result.checksum}")


@export_cli.command("lock")
@click.option("--period", "period_key", required=True)
@click.option("--actor", default=None)
def lock(period_key, actor):
    """Lock a finished period: its export is frozen; later changes become adjustments."""
    try:
        with current_app.extensions["db"].session() as s:
            p = lock_period(s, period_key, _actor(actor))
            click.echo(f"{p.key} locked  snapshot sha256={p.checksum}")
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from exc


@export_cli.command("periods")
def periods():
    """List known pay periods."""
    with current_app.extensions["db"].session() as s:
        for p in list_periods(s):
            click.echo(f"{p.key:<10} {p.state:<7} {p.locked_by or '':<20} {p.checksum or ''}")
