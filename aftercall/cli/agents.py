"""``flask agents …``: agents, their skills (queues) and presence."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from aftercall.cli.common import db, refusals
from callflow.agents import AgentError, create_agent, list_agents, update_agent
from store.agents import PRESENCES, Agent

agents_cli = AppGroup("agents", help="Agents: skills (queues) and presence.")


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
    with refusals(AgentError):
        with db().session() as s:
            agent = create_agent(s, {"id": agent_id, "name": name or agent_id, "team": team,
                                     "skills": _skills(skills), "phone": phone, "presence": presence},
                                 current_app.config["MENU"].queues)
            click.echo(json.dumps(agent.to_dict(), ensure_ascii=False))


@agents_cli.command("list")
@click.option("--team", default=None)
def agents_list(team):
    """List agents with their skills and presence."""
    with db().session() as s:
        for a in list_agents(s, team):
            click.echo(f"{a.id:<16} {a.team:<10} {a.presence:<9} {','.join(a.skills):<24} {a.name}")


@agents_cli.command("set")
@click.argument("agent_id")
@click.option("--presence", type=click.Choice(PRESENCES))
@click.option("--skills", default=None)
@click.option("--team", default=None)
@click.option("--name", default=None)
@click.option("--active/--inactive", default=None)
@click.option("--employee-number", default=None, help="HR's number for the agent (in every pay export); '' clears it")
def agents_set(agent_id, presence, skills, team, name, active, employee_number):
    """Change an agent's presence, skills, team, name, employee number or active flag."""
    data = {k: v for k, v in {"presence": presence, "team": team, "name": name, "active": active,
                              "employee_number": employee_number,
                              "skills": _skills(skills) if skills is not None else None}.items() if v is not None}
    with refusals(AgentError):
        with db().session() as s:
            agent = s.get(Agent, agent_id)
            if agent is None:
                raise click.ClickException(f"no agent {agent_id!r}")
            click.echo(json.dumps(update_agent(s, agent, data, current_app.config["MENU"].queues).to_dict(),
                                  ensure_ascii=False))
