"""``flask worker``: the background job runner."""
from __future__ import annotations

import click
from flask import current_app

from aftercall import jobs
from aftercall.cli.common import db
from aftercall.config import require_secret


@click.command("worker")
def worker_command():
    """Run background jobs: an RQ worker with the outbox relay, or in-process without REDIS_URL."""
    settings = current_app.config["SETTINGS"]
    require_secret(settings)
    jobs.work(settings, db())
