"""``flask export …``: bonus files and period locks from the command line.

Locking and exporting are the payroll use cases the dashboard and the JSON API share
(``scoring.payroll.actions``): the command starts the job and runs it here, in the foreground.
"""
from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask.cli import AppGroup

from aftercall.cli.common import db, refusals, run_quietly
from scoring.payroll.actions import start_export, start_lock
from scoring.payroll.periods import PeriodError, known_periods
from store.payroll import EXPORT_FORMATS, ExportFile

export_cli = AppGroup("export", help="Bonus exports for payroll and pay-period locks.")


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


@export_cli.command("bonus")
@click.option("--period", "period_key", required=True, help="Pay period, e.g. 2026-11")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: the export's own name in the current directory)")
@click.option("--actor", default=None, help="Who exports, for the audit log (default: cli:<user>)")
@click.option("--language", "lang", type=click.Choice(("en", "ru")), default="en", show_default=True,
              help="The language of the XLSX's headers, tiers and column sheet (CSV and JSON keep their keys)")
def bonus(period_key, fmt, output, actor, lang):
    """Write a period's bonus file and print its path and SHA-256 checksum."""
    with refusals(PeriodError):
        with db().session() as s:
            job_id = start_export(s, period_key, fmt, _actor(actor), lang=lang).id
    result = run_quietly(job_id)
    with db().session() as s:
        content = s.get(ExportFile, result["export_id"]).content
    path = output or Path(result["filename"])
    path.write_bytes(content)
    click.echo(f"{path}  sha256={result['checksum']}")


@export_cli.command("lock")
@click.option("--period", "period_key", required=True)
@click.option("--actor", default=None)
@click.option("--reason", default=None, help="Why it is locked now, for the audit log")
@click.option("--lock-anyway", is_flag=True, help="Lock although disputes are open (needs --reason)")
def lock(period_key, actor, reason, lock_anyway):
    """Lock a finished period: its export is frozen; later changes become adjustments."""
    with refusals(PeriodError):
        with db().session() as s:
            job_id = start_lock(s, period_key, _actor(actor), reason=reason, lock_anyway=lock_anyway).id
    result = run_quietly(job_id)
    click.echo(f"{result['period']} locked  snapshot sha256={result['checksum']}")


@export_cli.command("periods")
def periods():
    """List pay periods: stored ones, every month (or week) with calls and the current one."""
    with db().session() as s:
        for p in known_periods(s):
            click.echo(f"{p.key:<10} {p.state:<7} {p.locked_by or '':<20} {p.checksum or ''}")
