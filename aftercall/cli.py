"""``flask …`` commands: migrations, agents, API tokens and the worker."""
from __future__ import annotations

import json
import secrets

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from aftercall import jobs
from callflow.agents import AgentError, create_agent, list_agents, update_agent
from scoring.cli import flags_cli, scorecards_cli, sla_command
from store.accounts import ROLES, ApiToken, hash_token
from store.agents import PRESENCES, Agent

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
agents_cli = AppGroup("agents", help="Agents: skills (queues) and presence.")
tokens_cli = AppGroup("tokens", help="API tokens for the JSON APIs.")


def _db():
    return current_app.extensions["db"]


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Apply migrations up to REVISION."""
    _db().upgrade(revision)
    click.echo(f"database at {revision}")


def _skills(value: str) -> list[str]:
    return [q.strip() for q in value.split(",") if q.strip()]


@agents_cli.command("add")
@click.argument("agent_id")
@click.option("--name", default="")
@click.option("--team", default="")
@click.option("--skills", required=True, help="Comma-separated queue names, e.g. billing,tech")
@click.option("--phone", default=None, help="E.164 number to dial instead of the Twilio Client identity")
@click.option("--presence", type=click.Choice(PRESENCES), default="offline", show_default=True)
def agents_add(agent_id, name, team, skills, phone, presence):
    """Create an agent."""
    try:
        with _db().session() as s:
            agent = create_agent(s, {"id": agent_id, "name": name or agent_id, "team": team,
                                     "skills": _skills(skills), "phone": phone, "presence": presence},
                                 current_app.config["MENU"].queues)
            click.echo(json.dumps(agent.to_dict(), ensure_ascii=False))
    except AgentError as exc:
        raise click.ClickException(str(exc)) from exc


@agents_cli.command("list")
@click.option("--team", default=None)
def agents_list(team):
    """List agents with their skills and presence."""
    with _db().session() as s:
        for a in list_agents(s, team):
            click.echo(f"{a.id:<16} {a.team:<10} {a.presence:<9} {','.join(a.skills):<24} {a.name}")


@agents_cli.command("set")
@click.argument("agent_id")
@click.option("--presence", type=click.Choice(PRESENCES))
@click.option("--skills", default=None)
@click.option("--team", default=None)
@click.option("--name", default=None)
@click.option("--active/--inactive", default=None)
def agents_set(agent_id, presence, skills, team, name, active):
    """Change an agent's presence, skills, team, name or active flag."""
    data = {k: v for k, v in {"presence": presence, "team": team, "name": name, "active": active,
                              "skills": _skills(skills) if skills is not None else None}.items() if v is not None}
    try:
        with _db().session() as s:
            agent = s.get(Agent, agent_id)
            if agent is None:
                raise click.ClickException(f"no agent {agent_id!r}")
            click.echo(json.dumps(update_agent(s, agent, data, current_app.config["MENU"].queues).to_dict(),
                                  ensure_ascii=False))
    except AgentError as exc:
        raise click.ClickException(str(exc)) from exc


@tokens_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
def tokens_create(name, role):
    """Create an API token; it is printed once and stored only as a hash."""
    token = "ac_" + secrets.token_urlsafe(32)
    with _db().session() as s:
        s.add(ApiToken(name=name, role=role, token_hash=hash_token(token)))
    click.echo(token)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    with _db().session() as s:
        token = s.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        token.revoked = True
    click.echo(f"token {token_id} revoked")


@tokens_cli.command("list")
def tokens_list():
    from sqlalchemy import select
    with _db().session() as s:
        for t in s.scalars(select(ApiToken).order_by(ApiToken.id)):
            click.echo(f"{t.id:<4} {t.role:<10} {'revoked' if t.revoked else 'active':<8} {t.name}")


@click.command("worker")
def worker_command():
    """Run background jobs: an RQ worker with the outbox relay, or in-process without REDIS_URL."""
    jobs.work(current_app.config["SETTINGS"], _db())


def register(app: Flask) -> None:
    from aftercall.demo import demo_command
    from emulator.cli import simulate_command
    from dashboard.cli import users_cli
    app.cli.add_command(users_cli)
    from scoring.export_cli import export_cli
    app.cli.add_command(export_cli)
    for command in (db_cli, agents_cli, tokens_cli, worker_command, flags_cli, scorecards_cli, sla_command,
                    demo_command, simulate_command):
        app.cli.add_command(command)
