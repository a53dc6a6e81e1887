"""``flask demo``: a demo call centre on first start: agents, a week of emulated calls."""
from __future__ import annotations

import dataclasses
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from accounts.tokens import create_token
from accounts.users import create_user, find_user
from aftercall.callbacks import sweep
from emulator.agents import HttpConsole
from emulator.runner import run
from emulator.scenario import load_scenario
from emulator.transport import Target
from scoring.disputes import open_dispute
from store.agents import Agent
from store.callbacks import CallbackTask
from store.calls import Call
from store.disputes import Dispute
from store.flags import Flag
from store.recordings import Recording
from survey.definition import words_setting

DEMO_LOOKBACK_DAYS = 36500
DEMO_SUPERVISOR = "supervisor@demo.local"   # scripts/run.sh creates it before the demo
DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "emulator" / "scenarios" / "demo.toml"
DEMO_SURVEY = Path(__file__).resolve().parents[2] / "survey" / "survey.toml"


def demo_window(scenario, now: datetime):
    """The scenario placed so that its calls are over before ``now``: arrivals end early enough
    for the longest call and a repeat caller's delay, and nothing may start past ``until``'s margin
    (a demo call in the future would top the calls list and disagree with `flask sla`)."""
    if scenario.start is not None:
        return scenario.replace(until=scenario.until or now)
    tail = timedelta(seconds=scenario.timing.max_call_s, hours=max(scenario.callers.repeat_delay_h))
    end = (now - tail).replace(minute=0, second=0, microsecond=0)
    return scenario.replace(start=end - timedelta(days=scenario.days), until=now)


def demo_words():
    """The shipped survey file's ``[record]`` table, turned on, for the demo's calls."""
    raw = tomllib.loads(DEMO_SURVEY.read_text(encoding="utf-8"))["record"]
    return words_setting({**raw, "enabled": True})


@click.command("demo")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False),
              default=str(DEMO_SCENARIO), show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when calls are already stored.")
@click.option("--truth", "truth_path", default=None, help="Write the emulator's ground truth here (JSON lines).")
@click.option("--no-followups", is_flag=True, help="Skip the follow-up surveys (SMS and call-backs) after the calls.")
def demo_command(scenario_path, if_empty, truth_path, no_followups):
    """Seed agents and emulated traffic through the real webhooks (in-process, signed), then
    the follow-up surveys of the callers who left, through Twilio's REST client against the
    emulator's stand-in (``aftercall.followup_sim``)."""
    db = current_app.extensions["db"]
    settings = current_app.config["SETTINGS"]
    with db.session() as s:
        stored = s.scalar(select(func.count()).select_from(Call))
    if if_empty and stored:
        click.echo(f"demo: {stored} calls already stored, nothing to seed")
        return
    if not settings.twilio_auth_token:
        raise click.ClickException("set TWILIO_AUTH_TOKEN: the emulator signs its webhooks with it")
    with db.session() as s:
        _, token = create_token(s, "demo emulator (agent console)", "admin", actor="cli:demo")
    scenario = demo_window(load_scenario(scenario_path), datetime.now(timezone.utc))
    scenario = scenario.replace(auth_token=settings.twilio_auth_token, api_token=token)
    target = Target.wsgi(current_app._get_current_object(), settings.public_base_url or "http://localhost")
    survey = current_app.config["SURVEY"]
    if survey.words is None:   # the demo's callers leave their words even where the survey file does not ask
        current_app.config["SURVEY"] = dataclasses.replace(survey, words=demo_words())
    try:
        result = run(scenario, target, console=HttpConsole(target.client, target.base_url, token),
                     truth_path=truth_path)
    finally:
        current_app.config["SURVEY"] = survey
        target.close()
    click.echo(result.summary())
    if not no_followups:
        from aftercall.followup_sim import play_followups
        start = scenario.epoch()
        decisions, _callers, _rest = play_followups(current_app._get_current_object(), db, scenario, result.truth,
                                                    start, start + timedelta(days=scenario.days),
                                                    base_url=settings.public_base_url or "http://localhost")
        asked = sum(n for k, n in decisions.items() if not k.startswith("skipped"))
        click.echo(f"follow-ups: {asked} sent of {sum(decisions.values())} legs decided; "
                   + ", ".join(f"{k} {n}" for k, n in sorted(decisions.items())))
    # The worker's sweep (ranked, capped per team and day), over all the demo's simulated days.
    opened = sweep(dataclasses.replace(settings, callback_lookback_days=DEMO_LOOKBACK_DAYS), db)
    with db.session() as s:
        followed = s.scalar(select(func.count()).select_from(CallbackTask).where(CallbackTask.state == "followed-up"))
    click.echo(f"call-back tasks: {opened} opened, {followed} of them a polite follow-up instead (the teams' "
               f"daily capacity); see /callbacks")
    from aftercall.callback_sim import play_callbacks
    truth = play_callbacks(current_app._get_current_object(), db, scenario, DEMO_SUPERVISOR,
                           base_url=settings.public_base_url or "http://localhost")
    click.echo(f"call-backs: {DEMO_SUPERVISOR} called {len(truth)} callers back: "
               + ", ".join(f"{t.supervisor}/{t.caller or '-'}" for t in truth))
    with db.session() as s:
        said = s.scalar(select(func.count()).select_from(Recording).where(Recording.transcription_text.is_not(None)))
    click.echo(f"the callers' own words: {said} transcribed recordings (on the call pages and their tasks)")


DEMO_AGENT_USERS = {"farid@demo.local": "farid", "anna@demo.local": "anna"}
"""Agent logins of the demo (README): the cap cutter, whose dispute waits for the supervisor, and a good agent."""


@click.command("demo-agents")
@with_appcontext
@click.option("--password-stdin", is_flag=True, help="Read the agents' password from the first line of stdin.")
def demo_agents_command(password_stdin):
    """The demo's agent logins, and one dispute waiting for the supervisor: Farid disputes his
    latest "cut at the cap" verdict (through the same use case as his card). Run after the flags."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt("Password", hide_input=True)
    db = current_app.extensions["db"]
    with db.session() as s:
        for email, agent_id in DEMO_AGENT_USERS.items():
            if find_user(s, email) is None and s.get(Agent, agent_id) is not None:
                create_user(s, email, password, "agent", actor="cli:demo", agent_id=agent_id,
                            name=s.get(Agent, agent_id).name)
                click.echo(f"created agent {email} ({agent_id})")
        if s.scalar(select(Dispute.id).limit(1)) is not None:
            return
        flag = s.scalar(select(Flag).where(Flag.agent_id == "farid", Flag.kind == "cap-cut")
                        .order_by(Flag.occurred_at.desc()).limit(1))
        if flag is None:
            click.echo("demo-agents: farid has no cap-cut verdict to dispute (run `flask flags recompute --now` first)")
            return
        dispute = open_dispute(s, "farid", flag.id, "The caller asked me to end the call: she had to board her "
                               "train, and said she would call back tomorrow.", actor="farid@demo.local",
                               window_days=current_app.config["SETTINGS"].dispute_window_days)
        click.echo(f"dispute {dispute.id}: farid disputes flag {flag.id} (waiting in /flags)")
