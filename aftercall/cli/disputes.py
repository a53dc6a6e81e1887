"""``flask disputes …``: agents' disputes of their flags (list, open for an agent, decide)."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from aftercall.cli.common import cli_user, db, refusals
from scoring.disputes import DisputeError, decide_dispute, open_dispute, open_disputes
from scoring.outcomes.review import ReviewError

disputes_cli = AppGroup("disputes", help="Agents' disputes of findings and call verdicts.")


@disputes_cli.command("list")
def disputes_list():
    """Open disputes, oldest first, as JSON lines."""
    with db().session() as s:
        for d in open_disputes(s):
            click.echo(json.dumps(d.to_dict(), ensure_ascii=False))


@disputes_cli.command("open")
@click.argument("flag_id", type=int)
@click.option("--agent", required=True, help="the agent whose flag it is")
@click.option("--reason", required=True)
@click.option("--actor", default=lambda: cli_user(), show_default="cli:$USER")
def disputes_open(flag_id, agent, reason, actor):
    """Dispute FLAG_ID on behalf of AGENT (the same window and lock rules as on the card)."""
    with refusals(DisputeError):
        with db().session() as s:
            d = open_dispute(s, agent, flag_id, reason, actor=actor,
                             window_days=current_app.config["SETTINGS"].dispute_window_days)
            click.echo(json.dumps(d.to_dict(), ensure_ascii=False))


@disputes_cli.command("decide")
@click.argument("dispute_id", type=int)
@click.option("--accept", "decision", flag_value="accept")
@click.option("--reject", "decision", flag_value="reject")
@click.option("--comment", required=True)
@click.option("--actor", default=lambda: cli_user(), show_default="cli:$USER")
def disputes_decide(dispute_id, decision, comment, actor):
    """Accept (the flag dismissed, the pay recomputed) or reject a dispute, with a comment."""
    if decision is None:
        raise click.UsageError("give --accept or --reject")
    with refusals(DisputeError, ReviewError):
        with db().session() as s:
            d = decide_dispute(s, dispute_id, actor=actor, decision=decision, comment=comment)
            click.echo(json.dumps(d.to_dict(), ensure_ascii=False))
