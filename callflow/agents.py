"""Managing agents (the API and the CLI share these rules)."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from callflow.routing import set_presence
from store.agents import PRESENCES, Agent

AGENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
FIELDS = {"id", "name", "team", "skills", "phone", "employee_number", "active", "presence"}
EMPLOYEE_NUMBER_MAX = 32


class AgentError(ValueError):
    """Input that cannot make a valid agent; the message says what to fix."""


def _clean(data: dict, queues: set[str], creating: bool) -> dict:
    if not isinstance(data, dict):
        raise AgentError("expected a JSON object")
    unknown = set(data) - FIELDS
    if unknown:
        raise AgentError(f"unknown fields: {', '.join(sorted(unknown))}")
    out: dict = {}
    if creating or "id" in data:
        if not isinstance(data.get("id"), str) or not AGENT_ID.match(data["id"]):
            raise AgentError("id must be 1-64 letters, digits, '.', '_' or '-' (it is the Twilio Client identity)")
        out["id"] = data["id"]
    for text in ("name", "team"):
        if text in data:
            if not isinstance(data[text], str) or len(data[text]) > 120:
                raise AgentError(f"{text} must be a string of at most 120 characters")
            out[text] = data[text].strip()
    if "skills" in data:
        skills = data["skills"]
        if not isinstance(skills, list) or not all(isinstance(q, str) for q in skills):
            raise AgentError("skills must be a list of queue names")
        unknown_q = sorted(set(skills) - queues)
        if unknown_q:
            raise AgentError(f"unknown queues {unknown_q}; known: {sorted(queues)}")
        out["skills"] = sorted(set(skills))
    if "phone" in data:
        if data["phone"] not in (None, "") and (not isinstance(data["phone"], str) or not PHONE.match(data["phone"])):
            raise AgentError("phone must be E.164, like +15551234567, or null")
        out["phone"] = data["phone"] or None
    if "employee_number" in data:
        number = data["employee_number"]
        if number is not None and (not isinstance(number, str) or len(number.strip()) > EMPLOYEE_NUMBER_MAX):
            raise AgentError(f"employee_number must be a string of at most {EMPLOYEE_NUMBER_MAX} characters, or null")
        out["employee_number"] = (number or "").strip()
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise AgentError("active must be true or false")
        out["active"] = data["active"]
    if "presence" in data and data["presence"] not in PRESENCES:
        raise AgentError(f"presence must be one of {', '.join(PRESENCES)}")
    return out


def create_agent(session: Session, data: dict, queues: set[str]) -> Agent:
    values = _clean(data, queues, creating=True)
    if session.get(Agent, values["id"]) is not None:
        raise AgentError(f"agent {values['id']!r} already exists")
    agent = Agent(**{"skills": [], **values})
    session.add(agent)
    session.flush()
    if data.get("presence"):
        set_presence(session, agent, data["presence"])
    return agent


def update_agent(session: Session, agent: Agent, data: dict, queues: set[str]) -> Agent:
    values = _clean(data, queues, creating=False)
    if values.get("id", agent.id) != agent.id:
        raise AgentError("id cannot change")
    for key, value in values.items():
        setattr(agent, key, value)
    if data.get("presence"):
        set_presence(session, agent, data["presence"])
    session.flush()
    return agent


def list_agents(session: Session, team: str | None = None) -> list[Agent]:
    query = select(Agent).order_by(Agent.team, Agent.id)
    if team:
        query = query.where(Agent.team == team)
    return list(session.scalars(query))
