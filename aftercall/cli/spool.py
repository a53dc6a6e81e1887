"""``flask spool …``: apply what was kept during a database outage, and reconcile with Twilio."""
from __future__ import annotations

from functools import partial

import click
from flask import current_app
from flask.cli import with_appcontext

from aftercall import reconcile
from aftercall.cli.common import db
from store.base import utcnow
from store.spool import lost_records
from survey.spool import apply
from webhooks import outage


@click.group("spool")
def spool_cli():
    """The outage spool (ANSWER_SPOOL_DIR and the Redis stream) and reconciliation with Twilio."""


@spool_cli.command("replay")
@with_appcontext
def replay_command():
    """Apply everything kept in the spool now (the web and the worker do it on their own too)."""
    click.echo(f"applied {outage.replay(current_app._get_current_object())}")


@spool_cli.command("replay-log")
@click.argument("logfile", type=click.File("r", encoding="utf-8", errors="replace"))
@with_appcontext
def replay_log_command(logfile):
    """Apply the records of SPOOL-LOST log lines (every spool target had failed) from LOGFILE
    ('-' for standard input). Safe to run twice: each record is applied once."""
    records = lost_records(logfile)
    app = current_app._get_current_object()
    spool = app.extensions["answer_spool"]
    applied = spool.apply_all(records, partial(apply, db(), partial(outage.apply_webhook, app)))
    click.echo(f"found {len(records)}, applied {applied}")


@spool_cli.command("reconcile")
@with_appcontext
def reconcile_command():
    """Settle now, from Twilio's REST API, calls left open longer than RECONCILE_AFTER_MINUTES."""
    settings = current_app.config["SETTINGS"]
    if not settings.twilio_account_sid:
        raise click.ClickException("reconciling needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    rec = reconcile.Reconciler(settings, db())
    counts = reconcile.run(db(), reconcile.lookup(settings), utcnow(), rec.older_than)
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
