"""``flask sla``: SLA figures per queue, agent or team."""
from __future__ import annotations

import json
from dataclasses import asdict

import click
from flask.cli import with_appcontext

from aftercall.cli.common import db, time_range
from scoring.outcomes.rules import load_rules
from scoring.outcomes.sla import GROUPS, sla_report, sla_total


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
    with db().session() as s:
        rows = sla_report(s, *time_range(start, end), by=by, sla_seconds=sla_seconds or rules.service_level_seconds,
                          short_abandon_seconds=rules.short_abandon_seconds)
    if as_json:
        for row in rows:
            click.echo(json.dumps({**asdict(row), "others": row.others}))
        return

    def pct(v):
        return "-" if v is None else f"{v:.1%}"

    def sec(v):
        return "-" if v is None else f"{v:.0f}"

    # offered = handled + aband + others (the agent did not answer and the caller was requeued,
    # or the visit failed); short abandons are outside offered. The last line is the dashboard's
    # SLA panel (sla_total), the same figures.
    click.echo(f"{by:<16} {'offered':>7} {'handled':>7} {'aband':>5} {'others':>6} {'short':>5} {'aband%':>7} "
               f"{'SL':>7} {'ASA':>5} {'AHT':>5} {'xfer%':>6}")
    for r in rows:
        click.echo(f"{(r.key or '(none)'):<16} {r.offered:>7} {r.handled:>7} {r.abandoned:>5} {r.others:>6} "
                   f"{r.short_abandons:>5} {pct(r.abandonment_rate):>7} {pct(r.service_level):>7} "
                   f"{sec(r.asa_seconds):>5} {sec(r.aht_seconds):>5} {pct(r.transfer_back_rate):>6}")
    if rows:
        t = sla_total(rows)
        click.echo(f"{'(all)':<16} {t['offered']:>7} {t['handled']:>7} {t['abandoned']:>5} {t['others']:>6} "
                   f"{t['short_abandons']:>5} {pct(t['abandonment_rate']):>7} {pct(t['service_level']):>7} "
                   f"{sec(t['asa_seconds']):>5} {'-':>5} {'-':>6}")
