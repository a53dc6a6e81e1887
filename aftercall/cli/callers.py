"""``flask callers …``: callers at risk, the same list as the dashboard's at-risk page
(``scoring.customers.assess``), numbers masked as there."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from aftercall.cli.common import db, when
from dashboard.masking import mask
from scoring.customers import assess

callers_cli = AppGroup("callers", help="Callers and their satisfaction.")


@callers_cli.command("at-risk")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True, help="the riskiest N callers")
@click.option("--now", "now", default=None, help="the window's end (YYYY-MM-DD or ISO 8601 with offset); default now")
def callers_at_risk(limit, now):
    """The riskiest callers of the window (scoring.toml [at_risk]) with their reasons."""
    with db().session() as s:
        result = assess(s, now=when(now, "--now"))
    centre = "-" if result.centre_index is None else f"{result.centre_index:.0%}"
    click.echo(f"window {result.start.isoformat()} .. {result.end.isoformat()}; centre index {centre}; "
               f"{len(result.callers)} at risk of {result.assessed} assessed")
    for rank, c in enumerate(result.callers[:limit], 1):
        index = "-" if c.index is None else f"{c.index:.0%} (n={c.answers})"
        reasons = ", ".join(f"{factor} {n}" for factor, n in c.reasons)
        click.echo(f"{rank}\t{mask(c.number)}\trisk {c.score:g}\tindex {index}\t{c.calls} calls\t"
                   f"last {c.last_at.isoformat()}\tkey {c.key}\t{reasons}")
