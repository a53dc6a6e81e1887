"""``flask scorecards …``: the daily scorecard rollup the dashboard reads."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from aftercall.cli.common import cli_user, db, run_here
from scoring.scorecards.rollup import refresh
from store.jobs import submit

scorecards_cli = AppGroup("scorecards", help="The daily scorecard rollup the dashboard reads.")


@scorecards_cli.command("rollup")
@click.option("--rebuild", is_flag=True, help="drop every rolled-up day and count them all again "
                                               "(after writing calls straight into the database)")
@click.option("--queue", "queue_only", is_flag=True, help="leave it to the worker instead of running it here")
def scorecards_rollup(rebuild, queue_only):
    """Roll up every closed day the rollup lacks or should recount (the worker also does this on its own)."""
    with db().session() as s:
        job = submit(s, refresh, created_by=cli_user(), rebuild=rebuild)
        job_id = job.id
    if queue_only:
        click.echo(f"job {job_id} queued")
        return
    run_here(job_id)
