"""`flask simulate`: drive the app with simulated Twilio traffic and print a summary.

In-process by default (the current Flask app through WSGI, no server
needed); `--base-url` drives a running server instead. Requests are signed
with `--auth-token`, by default the app's own Twilio auth token
(`app.config["SETTINGS"].twilio_auth_token`) when that exists.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

import emulator
from emulator.agents import HttpConsole, NullConsole
from emulator.runner import run
from emulator.scenario import load_scenario
from emulator.transport import Target

DEMO = Path(emulator.__file__).parent / "scenarios" / "demo.toml"


def _app_setting(name: str) -> str:
    settings = current_app.config.get("SETTINGS")
    return getattr(settings, name, "") or ""


@click.command("simulate")
@click.option("--calls", "calls", type=int, default=None, help="Cap on first-contact calls (default: the scenario's days).")
@click.option("--concurrency", type=int, default=1, show_default=True, help="Requests in flight at once.")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False), default=str(DEMO),
              show_default=True)
@click.option("--base-url", default=None, help="Running server to drive (default: this app in-process).")
@click.option("--truth", "truth_path", type=click.Path(dir_okay=False), default=None, help="Write ground truth JSON lines here.")
@click.option("--seed", type=int, default=None, help="Override the scenario's seed.")
@click.option("--auth-token", envvar="TWILIO_AUTH_TOKEN", default=None, help="Twilio auth token the app validates against.")
@click.option("--api-token", envvar="EMULATOR_API_TOKEN", default=None,
              help="Bearer token for /api/agents (admin role); without one, agents are not registered.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--check", is_flag=True,
              help="Afterwards, reconcile this app's database (DATABASE_URL; the server's with --base-url) "
                   "against the truth; list mismatches and exit 1 if there are any.")
@with_appcontext
def simulate_command(calls, concurrency, scenario_path, base_url, truth_path, seed, auth_token, api_token, no_progress,
                     check):
    """Place simulated calls through the app's webhooks, exactly as Twilio would."""
    scenario = load_scenario(scenario_path)
    changes = {k: v for k, v in {"calls": calls, "seed": seed,
                                 "auth_token": auth_token or _app_setting("twilio_auth_token") or None,
                                 "api_token": api_token}.items() if v is not None}
    scenario = scenario.replace(**changes)
    if base_url:
        target = Target.http(base_url, connections=max(8, 2 * concurrency))
    else:
        target = Target.wsgi(current_app._get_current_object(),
                             _app_setting("public_base_url") or "http://localhost")
    console = HttpConsole(target.client, target.base_url, scenario.api_token) if api_token else NullConsole()
    if not api_token:
        click.echo("no --api-token: agents are not registered or brought back from breaks", err=True)
    try:
        result = run(scenario, target, progress=not no_progress, concurrency=concurrency,
                     console=console, truth_path=truth_path)
    finally:
        target.close()
    click.echo(result.summary())
    if result.console_errors:
        click.echo(f"agent console errors (first 5): {result.console_errors[:5]}", err=True)
    if check:
        report = check_against_app(result.truth)
        click.echo("")
        click.echo(report.summary(limit=50))
        if not report.ok:
            raise SystemExit(1)


def check_against_app(truth):
    """Reconcile the current app's database with `truth`, using its menu and survey definitions."""
    from aftercall.ground_truth import reconcile
    menu, survey = current_app.config["MENU"], current_app.config["SURVEY"]
    with current_app.extensions["db"].session() as s:
        return reconcile(s, truth, questions=[q.key for q in survey.questions],
                         languages={lang.digit: lang.key for lang in menu.languages.values()})
