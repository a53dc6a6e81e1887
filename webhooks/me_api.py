"""JSON API for an agent's own desktop (bearer token of role "agent", linked to one agent):
their scorecard, the tier outlook and their flags, and disputing one of them.

The agent is the token's, never an id from the request, so no other agent's data can be asked
for; an admin token is no agent and is refused too. The same use cases as the /me page
(``scoring.scorecards.outlook``, ``scoring.disputes``)."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from scoring.disputes import DisputeError, agent_disputes, disputable, open_dispute, window_ends
from scoring.payroll.periods import PeriodError, period_bounds, period_key_for
from scoring.scorecards.outlook import tier_outlook
from scoring.scorecards.statistics import finite
from store.base import utcnow
from store.flags import Flag
from webhooks.security import api_error, require_token

bp = Blueprint("me_api", __name__, url_prefix="/api/me")


def _agent() -> str | None:
    return g.api_token["agent_id"] if g.api_token["role"] == "agent" else None


@bp.get("/scorecard")
@require_token("agent")
def scorecard():
    """``?period=2026-11`` (default: the current period): the agent's card as supervisors see
    it, the tier outlook, their flags of the period and all their disputes."""
    me = _agent()
    if me is None:
        return api_error(403, "only an agent's token has a scorecard of its own")
    key = request.args.get("period") or period_key_for(utcnow())
    try:
        start, end = period_bounds(key)
    except PeriodError as exc:
        return api_error(400, str(exc))
    window = current_app.config["SETTINGS"].dispute_window_days
    with current_app.extensions["db"].session() as s:
        outlook = tier_outlook(s, me, start, end)
        flags = list(s.scalars(select(Flag).where(Flag.agent_id == me, Flag.occurred_at >= start,
                                                  Flag.occurred_at < end).order_by(Flag.occurred_at, Flag.id)))
        body = {
            "agent_id": me, "period": key, "start": start.isoformat(), "end": end.isoformat(),
            "scorecard": outlook.card.to_dict() if outlook else None,
            "outlook": None if outlook is None else {
                "answers_to_tier": outlook.answers_to_tier, "next_tier": outlook.next_tier,
                "yes_to_next": outlook.yes_to_next, "keep_tier": outlook.keep_tier, "no_to_drop": outlook.no_to_drop},
            "flags": [{**f.to_dict(), "disputable": disputable(s, f, window) is None,
                       "dispute_until": window_ends(f, window).isoformat()} for f in flags],
            "disputes": [d.to_dict() for d in agent_disputes(s, me)],
        }
    return jsonify(finite(body))


@bp.post("/flags/<int:flag_id>/dispute")
@require_token("agent")
def dispute(flag_id):
    """Body ``{"reason": "..."}``: dispute one of the agent's flags (within the window, before the lock)."""
    me = _agent()
    if me is None:
        return api_error(403, "only an agent's token can dispute its own flags")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("reason"), str):
        return api_error(400, 'the body must be a JSON object with a "reason" string')
    try:
        with current_app.extensions["db"].session() as s:
            d = open_dispute(s, me, flag_id, body["reason"], actor=f"token:{g.api_token['name']}",
                             window_days=current_app.config["SETTINGS"].dispute_window_days)
            return jsonify(d.to_dict()), 201
    except DisputeError as exc:
        status = {"dispute_not_yours": 404, "dispute_reason": 400}.get(exc.key, 409)
        return api_error(status, str(exc))
