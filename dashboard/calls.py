"""The calls list and one call's timeline (supervisors)."""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import or_, select

from dashboard.i18n import N_
from dashboard import queries
from dashboard.auth import guard
from dashboard.web import choice_arg, db, or_404, page_range, render
from store.flags import Flag

bp = Blueprint("calls", __name__)
bp.before_request(guard("calls"))


@bp.get("/calls")
def index():
    with db().session() as s:
        rng, known = page_range(s, request.args)
        teams = queries.teams(s)
        team = choice_arg("team", teams, N_("Team"))
        agent_id = choice_arg("agent", queries.agent_ids(s), N_("Agent"))
        rows = queries.list_calls(s, rng.start, rng.end, agent_id=agent_id, team=team)
    return render("calls.html", rng=rng, periods=known, rows=rows, agent_id=agent_id, team=team, teams=teams)


@bp.get("/calls/<sid>")
def show(sid):
    with db().session() as s:
        call, events = or_404(queries.call_timeline(s, sid))
        leg_ids = [e.data["id"] for e in events if e.kind == "leg"]
        flags = list(s.scalars(select(Flag).where(or_(Flag.call_sid == sid, Flag.leg_id.in_(leg_ids)))
                               .order_by(Flag.id)))
    return render("call.html", call=call, events=events, flags=flags)
