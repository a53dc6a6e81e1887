"""``flask flags …``: gaming flags (recompute over stored calls, list, what confirming would cost, review,
the cap cliff)."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import click
from flask.cli import AppGroup

from aftercall.cli.common import cli_user, db, refusals, run_here, time_range, when
from scoring.outcomes.flags import centre_cliff
from scoring.outcomes.recompute import recompute
from scoring.outcomes.queue import DEFAULT_STATE, PERIOD, QueueFilter, list_findings
from scoring.outcomes.review import ReviewError, review_flags
from scoring.outcomes.rules import load_rules
from scoring.payroll.confirm_cost import confirm_costs
from store.flags import KINDS, STATES
from store.jobs import submit

flags_cli = AppGroup("flags", help="Gaming flags: recompute from stored calls, list, review.")


@flags_cli.command("recompute")
@click.option("--start", default=None, help="YYYY-MM-DD or ISO time; default: the first call")
@click.option("--end", default=None, help="exclusive; default: after the last call")
@click.option("--rules", "rules_file", default=None, help="rules TOML (default $RULES_FILE or scoring/rules.toml)")
@click.option("--now", "run_now", is_flag=True, help="run in this process instead of leaving it to the worker")
def flags_recompute(start, end, rules_file, run_now):
    """Re-evaluate the outcome rules over stored calls (a background job)."""
    with refusals(ValueError):
        load_rules(rules_file)  # fail here, not in the worker
    kwargs = {k: v for k, v in {"start": when(start, "--start"), "end": when(end, "--end"),
                                "rules_file": rules_file}.items() if v is not None}
    kwargs = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in kwargs.items()}
    with db().session() as s:
        job = submit(s, recompute, created_by=cli_user(), **kwargs)
        job_id = job.id
    if not run_now:
        click.echo(f"job {job_id} queued")
        return
    run_here(job_id)


@flags_cli.command("list")
@click.option("--start", default=None, help="keep what overlaps [start, end)")
@click.option("--end", default=None)
@click.option("--kind", type=click.Choice(KINDS), default=None, help="a leg kind lists those leg verdicts")
@click.option("--state", type=click.Choice((*STATES, "all")), default=DEFAULT_STATE, show_default=True)
@click.option("--agent", default=None)
@click.option("--team", default=None)
@click.option("--period", default=None, help="a finding period, YYYY-MM")
@click.option("--cost", "with_cost", is_flag=True,
              help="add confirm_cost to each flag not yet confirmed: what confirming would do to pay (as flags cost)")
def flags_list(start, end, kind, state, agent, team, period, with_cost):
    """What the review queue lists, as JSON lines, newest period first (default: open findings
    of every period)."""
    if period is not None and not PERIOD.match(period):
        raise click.BadParameter("use YYYY-MM", param_hint="--period")
    start_at, end_at = when(start, "--start"), when(end, "--end")
    if start_at and end_at and end_at <= start_at:
        raise click.BadParameter("--end must be after --start")
    filters = QueueFilter(state=None if state == "all" else state, kind=kind, agent_id=agent, team=team,
                          period=period, start=start_at, end=end_at)
    with db().session() as s:
        found = list_findings(s, filters, limit=None).items
        costs = confirm_costs(s, [f.id for f in found if f.state != "confirmed"]) if with_cost else {}
        for flag in found:
            row = flag.to_dict()
            if flag.id in costs:
                row["confirm_cost"] = costs[flag.id].to_dict()
            click.echo(json.dumps(row, ensure_ascii=False))


@flags_cli.command("cost")
@click.argument("flag_ids", type=int, nargs=-1, required=True)
def flags_cost(flag_ids):
    """What confirming each flag would do to its agent's pay, as JSON lines (nothing is changed):
    the card before and with the flag confirmed, and a sentence ("confirming moves Carla from
    bronze ×0.50 to none ×0.00")."""
    with db().session() as s:
        costs = confirm_costs(s, list(flag_ids))
    for flag_id in flag_ids:
        if flag_id in costs:
            click.echo(json.dumps(costs[flag_id].to_dict(), ensure_ascii=False))
    missing = [flag_id for flag_id in flag_ids if flag_id not in costs]
    if missing:
        raise click.ClickException("no flag " + ", ".join(map(str, missing)))


@flags_cli.command("review")
@click.argument("flag_ids", type=int, nargs=-1, required=True)
@click.option("--confirm", "decision", flag_value="confirm")
@click.option("--dismiss", "decision", flag_value="dismiss")
@click.option("--comment", required=True)
@click.option("--actor", default=lambda: cli_user(), show_default="cli:$USER")
def flags_review(flag_ids, decision, comment, actor):
    """Confirm or dismiss flags, one comment for all (each audited); ``flags cost`` first says what
    confirming would do to pay."""
    if decision is None:
        raise click.UsageError("give --confirm or --dismiss")
    with refusals(ReviewError):
        with db().session() as s:
            result = review_flags(s, flag_ids, actor, decision, comment)
            for flag in result.reviewed:
                click.echo(json.dumps(flag.to_dict(), ensure_ascii=False))
    if result.refused:
        raise click.ClickException("; ".join(f"flag {i}: {why}" for i, why in result.refused.items()))


@flags_cli.command("cliff")
@click.option("--start", default=None)
@click.option("--end", default=None)
def flags_cliff(start, end):
    """The centre-level cap-cliff test: excess agent-ended calls just under the cap."""
    rules = load_rules()
    with db().session() as s:
        result = centre_cliff(s, *time_range(start, end), rules)
    click.echo(json.dumps({"cap_seconds": rules.cap_seconds, "window_seconds": rules.cap_window_seconds,
                           **asdict(result)}))
