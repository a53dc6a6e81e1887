"""``flask flags …`` (recompute, list, review, cliff) and ``flask sla``."""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from tqdm import tqdm

from aftercall import jobs
from aftercall.jobs import ROLLUP_JOB
from scoring.flags import centre_cliff
from scoring.review import ReviewError, review_flags
from scoring.review_queue import DEFAULT_STATE, PERIOD, QueueFilter, list_findings
from scoring.rules import load_rules
from scoring.sla import GROUPS, sla_report
from store.flags import KINDS, STATES
from store.jobs import Job

flags_cli = AppGroup("flags", help="Gaming flags: recompute from stored calls, list, review.")


def _db():
    return current_app.extensions["db"]


def _when(value: str | None, name: str) -> datetime | None:
    """YYYY-MM-DD (UTC midnight) or an ISO 8601 time with its offset."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD or an ISO 8601 time with offset", param_hint=name) from None
    if when.tzinfo is None:
        if len(value) != 10:
            raise click.BadParameter("a time needs its offset, e.g. +00:00", param_hint=name)
        when = when.replace(tzinfo=timezone.utc)
    return when


def _range(start: str | None, end: str | None, default_days: int = 30) -> tuple[datetime, datetime]:
    end_at = _when(end, "--end") or datetime.now(timezone.utc)
    start_at = _when(start, "--start") or end_at - timedelta(days=default_days)
    if end_at <= start_at:
        raise click.BadParameter("--end must be after --start")
    return start_at, end_at


@flags_cli.command("recompute")
@click.option("--start", default=None, help="YYYY-MM-DD or ISO time; default: the first call")
@click.option("--end", default=None, help="exclusive; default: after the last call")
@click.option("--rules", "rules_file", default=None, help="rules TOML (default $RULES_FILE or scoring/rules.toml)")
@click.option("--now", "run_now", is_flag=True, help="run in this process instead of leaving it to the worker")
def flags_recompute(start, end, rules_file, run_now):
    """Re-evaluate the outcome rules over stored calls (a background job)."""
    try:
        load_rules(rules_file)  # fail here, not in the worker
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    kwargs = {k: v for k, v in {"start": _when(start, "--start"), "end": _when(end, "--end"),
                                "rules_file": rules_file}.items() if v is not None}
    kwargs = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in kwargs.items()}
    with _db().session() as s:
        job = jobs.submit(s, "scoring.recompute.recompute", created_by=f"cli:{os.environ.get('USER', '?')}", **kwargs)
        job_id = job.id
    if not run_now:
        click.echo(f"job {job_id} queued")
        return
    run_here(job_id)


def run_here(job_id: int) -> None:
    """Run a submitted job in this process with a progress bar, then print its result."""
    with tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {n:.0f}% {postfix}") as bar:
        def on_progress(fraction: float, note: str) -> None:
            bar.update(100 * fraction - bar.n)
            bar.set_postfix_str(note)
        state = jobs.run(_db(), job_id, on_progress=on_progress)
    with _db().session() as s:
        job = s.get(Job, job_id)
        click.echo(json.dumps({"job": job_id, "state": state, "result": job.result, "error": job.error}))
    if state != "done":
        raise click.ClickException(f"job {job_id} {state}")


scorecards_cli = AppGroup("scorecards", help="The daily scorecard rollup the dashboard reads.")


@scorecards_cli.command("rollup")
@click.option("--rebuild", is_flag=True, help="drop every rolled-up day and count them all again "
                                               "(after writing calls straight into the database)")
@click.option("--queue", "queue_only", is_flag=True, help="leave it to the worker instead of running it here")
def scorecards_rollup(rebuild, queue_only):
    """Roll up every settled day the rollup lacks (the worker also does this on its own)."""
    with _db().session() as s:
        job = jobs.submit(s, ROLLUP_JOB, created_by=f"cli:{os.environ.get('USER', '?')}", rebuild=rebuild)
        job_id = job.id
    if queue_only:
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
def flags_list(start, end, kind, state, agent, team, period):
    """What the review queue lists, as JSON lines, newest period first (default: open findings
    of every period)."""
    if period is not None and not PERIOD.match(period):
        raise click.BadParameter("use YYYY-MM", param_hint="--period")
    start_at, end_at = _when(start, "--start"), _when(end, "--end")
    if start_at and end_at and end_at <= start_at:
        raise click.BadParameter("--end must be after --start")
    filters = QueueFilter(state=None if state == "all" else state, kind=kind, agent_id=agent, team=team,
                          period=period, start=start_at, end=end_at)
    with _db().session() as s:
        for flag in list_findings(s, filters, limit=None).items:
            click.echo(json.dumps(flag.to_dict(), ensure_ascii=False))


@flags_cli.command("review")
@click.argument("flag_ids", type=int, nargs=-1, required=True)
@click.option("--confirm", "decision", flag_value="confirm")
@click.option("--dismiss", "decision", flag_value="dismiss")
@click.option("--comment", required=True)
@click.option("--actor", default=lambda: f"cli:{os.environ.get('USER', '?')}", show_default="cli:$USER")
def flags_review(flag_ids, decision, comment, actor):
    """Confirm or dismiss flags, one comment for all (each audited)."""
    if decision is None:
        raise click.UsageError("give --confirm or --dismiss")
    try:
        with _db().session() as s:
            result = review_flags(s, flag_ids, actor, decision, comment)
            for flag in result.reviewed:
                click.echo(json.dumps(flag.to_dict(), ensure_ascii=False))
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from exc
    if result.refused:
        raise click.ClickException("; ".join(f"flag {i}: {why}" for i, why in result.refused.items()))


@flags_cli.command("cliff")
@click.option("--start", default=None)
@click.option("--end", default=None)
def flags_cliff(start, end):
    """The centre-level cap-cliff test: excess agent-ended calls just under the cap."""
    rules = load_rules()
    with _db().session() as s:
        result = centre_cliff(s, *_range(start, end), rules)
    click.echo(json.dumps({"cap_seconds": rules.cap_seconds, "window_seconds": rules.cap_window_seconds,
                           **asdict(result)}))


@click.command("sla")
@click.option("--start", default=None, help="YYYY-MM-DD or ISO time (default: 30 days before --end)")
@click.option("--end", default=None, help="exclusive (default: now)")
@click.option("--by", type=click.Choice(GROUPS), default="queue", show_default=True)
@click.option("--sla-seconds", type=int, default=None, help="service-level X (default from the rules file)")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table")
@with_appcontext
def sla_command(start, end, by, sla_seconds, as_json):
    """SLA figures per queue, agent or team for calls started in [start, end)."""
    rules = load_rules()
    with _db().session() as s:
        rows = sla_report(s, *_range(start, end), by=by, sla_seconds=sla_seconds or rules.service_level_seconds,
                          short_abandon_seconds=rules.short_abandon_seconds)
    if as_json:
        for row in rows:
            click.echo(json.dumps(asdict(row)))
        return

    def pct(v):
        return "-" if v is None else f"{v:.1%}"

    def sec(v):
        return "-" if v is None else f"{v:.0f}"

    click.echo(f"{by:<16} {'offered':>7} {'handled':>7} {'aband':>5} {'short':>5} {'aband%':>7} {'SL':>7} "
               f"{'ASA':>5} {'AHT':>5} {'xfer%':>6}")
    for r in rows:
        click.echo(f"{(r.key or '(none)'):<16} {r.offered:>7} {r.handled:>7} {r.abandoned:>5} {r.short_abandons:>5} "
                   f"{pct(r.abandonment_rate):>7} {pct(r.service_level):>7} {sec(r.asa_seconds):>5} "
                   f"{sec(r.aht_seconds):>5} {pct(r.transfer_back_rate):>6}")

