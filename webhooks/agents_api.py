"""JSON API for agents and their presence (token authentication), used by agent consoles."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from callflow.agents import AgentError, create_agent, list_agents, update_agent
from callflow.journey import TransferRefused, request_transfer
from callflow.routing import set_presence
from store.agents import PRESENCES, Agent
from webhooks.security import api_error, require_token

bp = Blueprint("agents_api", __name__, url_prefix="/api/agents")


def _queues() -> set[str]:
    return current_app.config["MENU"].queues


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise AgentError("the body must be a JSON object (Content-Type: application/json)")
    return data


@bp.errorhandler(AgentError)
def _bad(exc):
    return api_error(400, str(exc))


@bp.get("")
@require_token("supervisor", "admin")
def index():
    with current_app.extensions["db"].session() as s:
        return jsonify({"agents": [a.to_dict() for a in list_agents(s, request.args.get("team"))]})


@bp.post("")
@require_token("admin")
def create():
    data = _body()
    with current_app.extensions["db"].session() as s:
        agent = create_agent(s, data, _queues())
        body = agent.to_dict()
    return jsonify(body), 201


def _agent_or_404(s, agent_id: str):
    agent = s.get(Agent, agent_id)
    if agent is None:
        return None, api_error(404, f"no agent {agent_id!r}")
    return agent, None


@bp.get("/<agent_id>")
@require_token("supervisor", "admin")
def show(agent_id):
    with current_app.extensions["db"].session() as s:
        agent, err = _agent_or_404(s, agent_id)
        return err or jsonify(agent.to_dict())


@bp.patch("/<agent_id>")
@require_token("admin")
def patch(agent_id):
    data = _body()
    with current_app.extensions["db"].session() as s:
        agent, err = _agent_or_404(s, agent_id)
        return err or jsonify(update_agent(s, agent, data, _queues()).to_dict())


@bp.put("/<agent_id>/presence")
@require_token("supervisor", "admin")
def presence(agent_id):
    data = _body()
    if data.get("presence") not in PRESENCES:
        raise AgentError(f"presence must be one of {', '.join(PRESENCES)}")
    with current_app.extensions["db"].session() as s:
        agent, err = _agent_or_404(s, agent_id)
        return err or jsonify(set_presence(s, agent, data["presence"]).to_dict())


@bp.post("/<agent_id>/transfer")
@require_token("supervisor", "admin")
def transfer(agent_id):
    """The agent's console sends the caller on to another queue: carried out when the agent
    hangs up (``callflow.journey.request_transfer``)."""
    data = _body()
    if not isinstance(data.get("queue"), str):
        raise AgentError("queue is required: the queue to send the caller on to")
    with current_app.extensions["db"].session() as s:
        agent, err = _agent_or_404(s, agent_id)
        if err:
            return err
        try:
            leg = request_transfer(s, agent.id, data["queue"], _queues())
        except TransferRefused as exc:
            return api_error(409, str(exc))
        return jsonify({"leg_id": leg.id, "call_sid": leg.call_sid, "from_queue": leg.queue,
                        "transfer_queue": leg.transfer_queue})


@bp.delete("/<agent_id>")
@require_token("admin")
def deactivate(agent_id):
    with current_app.extensions["db"].session() as s:
        agent, err = _agent_or_404(s, agent_id)
        if err:
            return err
        agent.active = False
        set_presence(s, agent, "offline")
        return jsonify(agent.to_dict())
