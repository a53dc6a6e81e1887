"""What the ``flask …`` commands share: the app's database, time options, running a job here."""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import click
from flask import current_app
from tqdm import tqdm

from aftercall import jobs
from store.jobs import Job


@contextmanager
def refusals(*errors: type[Exception]):
    """A domain refusal (one of ``errors``) ends the command with its message and exit status 1."""
    try:
        yield
    except errors as exc:
        raise click.ClickException(str(exc)) from exc


def db():
    return current_app.extensions["db"]


def cli_user() -> str:
    """Who runs a command, for a job's ``created_by`` and the audit log."""
    return f"cli:{os.environ.get('USER', '?')}"


def when(value: str | None, name: str) -> datetime | None:
    """YYYY-MM-DD (UTC midnight) or an ISO 8601 time with its offset."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD or an ISO 8601 time with offset", param_hint=name) from None
    if at.tzinfo is None:
        if len(value) != 10:
            raise click.BadParameter("a time needs its offset, e.g. +00:00", param_hint=name)
        at = at.replace(tzinfo=timezone.utc)
    return at


def time_range(start: str | None, end: str | None, default_days: int = 30) -> tuple[datetime, datetime]:
    end_at = when(end, "--end") or datetime.now(timezone.utc)
    start_at = when(start, "--start") or end_at - timedelta(days=default_days)
    if end_at <= start_at:
        raise click.BadParameter("--end must be after --start")
    return start_at, end_at


def run_here(job_id: int) -> None:
    """Run a submitted job in this process with a progress bar, then print its result."""
    with tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {n:.0f}% {postfix}") as bar:
        def on_progress(fraction: float, note: str) -> None:
            bar.update(100 * fraction - bar.n)
            bar.set_postfix_str(note)
        state = jobs.run(db(), job_id, on_progress=on_progress)
    with db().session() as s:
        job = s.get(Job, job_id)
        click.echo(json.dumps({"job": job_id, "state": state, "result": job.result, "error": job.error}))
    if state != "done":
        raise click.ClickException(f"job {job_id} {state}")


def run_quietly(job_id: int) -> dict:
    """Run a submitted job in this process and return its result; a failure is the command's error."""
    state = jobs.run(db(), job_id)
    with db().session() as s:
        job = s.get(Job, job_id)
        if state != "done":
            lines = (job.error or "").strip().splitlines()
            raise click.ClickException(lines[-1] if lines else f"job {job_id} {state}")
        return job.result
