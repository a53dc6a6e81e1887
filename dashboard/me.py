"""An agent's own card (/me): their numbers with intervals, the tier they are on course for and
what would change it, their weekly trend, the calls behind the numbers, their findings with the
evidence, their call-backs, and their disputes with the supervisors' answers.

Everything is selected by the logged-in user's own agent id (``current_user.agent_id``), never
by an id from the URL, so no other agent's data can be asked for; caller numbers are masked;
the callers' recorded words are shown only when ``AGENT_SEES_OWN_WORDS`` allows it.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from dashboard import call_list, queries
from dashboard.auth import guard
from dashboard.call_list import CallFilter
from dashboard.i18n import refusal
from dashboard.paging import paged
from dashboard.supervise import _trend_chart, handle_time_chart
from dashboard.web import actor, db, or_404, page_range, render, safe_path
from scoring.disputes import DisputeError, agent_disputes, disputable, open_dispute, window_ends
from scoring.outcomes.rules import load_rules
from scoring.scorecards.drilldown import agent_trend
from scoring.scorecards.outlook import tier_outlook
from store.agents import Agent
from store.callbacks import CallbackTask
from store.calls import Call, Leg
from store.flags import Flag
from survey import words

bp = Blueprint("me", __name__, url_prefix="/me")
bp.before_request(guard("me"))

CALLS_PAGE = 25


def settings():
    return current_app.config["SETTINGS"]


@bp.get("")
def card():
    rules = load_rules()
    me = current_user.agent_id
    window = settings().dispute_window_days
    with db().session() as s:
        who = or_404(s.get(Agent, me))
        rng, known = page_range(s, request.args)
        outlook = tier_outlook(s, me, rng.start, rng.end)
        points = agent_trend(s, me, rng.start, rng.end, bucket="week")
        selection = CallFilter(rng.start, rng.end, agent_id=me)
        calls_page = paged(call_list.count_calls(s, selection), "calls_page", CALLS_PAGE)
        calls = call_list.list_calls(s, selection, offset=calls_page.offset, limit=calls_page.size)
        flags = list(s.scalars(select(Flag).where(Flag.agent_id == me, Flag.occurred_at >= rng.start,
                                                  Flag.occurred_at < rng.end)
                               .order_by(Flag.occurred_at.desc(), Flag.id.desc())))
        can_dispute = {f.id: disputable(s, f, window) is None for f in flags}
        until = {f.id: window_ends(f, window) for f in flags}
        verdicts: dict[str, list[Flag]] = {}
        for f in flags:
            if f.call_sid:
                verdicts.setdefault(f.call_sid, []).append(f)
        disputes = agent_disputes(s, me)
        disputed = {d.flag_id: d for d in disputes}
        said = {}
        if settings().agent_sees_own_words:
            legs = s.scalars(select(Leg.id).where(Leg.agent_id == me, Leg.call_sid.in_([c.sid for c in calls])))
            said = {leg: [r.transcription_text for r in rows if r.deleted_at is None and r.transcription_text]
                    for leg, rows in words.of_legs(s, list(legs)).items()}
            said_by_call = dict(s.execute(select(Leg.id, Leg.call_sid).where(Leg.id.in_(list(said)))).all())
            said = {said_by_call[leg]: texts for leg, texts in said.items() if texts}
        tasks = list(s.scalars(select(CallbackTask).join(Call, Call.sid == CallbackTask.call_sid)
                               .where(CallbackTask.agent_id == me, Call.started_at >= rng.start,
                                      Call.started_at < rng.end).order_by(CallbackTask.opened_at.desc())))
        task_rows = [{"opened_at": t.opened_at, "reason": t.reason, "state": t.state, "closed_at": t.closed_at,
                      "attempts": len(t.attempts)} for t in tasks]
        talk = queries.agent_ended_talk_times(s, rng.start, rng.end, agent_id=me).get(me, [])
    chart, verdict = handle_time_chart(talk, rules, gettext("My agent-ended talk times"))
    return render("me.html", agent=who, rng=rng, periods=known, outlook=outlook,
                  card=outlook.card if outlook else None, trend_chart=_trend_chart(points) if points else None,
                  calls=calls, calls_page=calls_page, flags=flags, verdicts=verdicts, can_dispute=can_dispute,
                  until=until, disputes=disputes, disputed=disputed, said=said, tasks=task_rows, ht_chart=chart,
                  ht_n=len(talk), verdict=verdict, rules=rules, window=window)


@bp.post("/flags/<id:flag_id>/dispute")
def dispute(flag_id):
    """Dispute one of my flags (a finding, or a call's verdict), with a reason; another agent's
    flag is refused as unknown."""
    try:
        with db().session() as s:
            open_dispute(s, current_user.agent_id, flag_id, request.form.get("reason", ""), actor=actor(),
                         window_days=settings().dispute_window_days)
    except DisputeError as exc:
        if exc.key == "dispute_not_yours":
            abort(404)
        flash(refusal(exc), "error")
    else:
        flash(gettext("Your dispute is with the supervisors; their answer will appear here."), "ok")
    back = safe_path(request.form.get("back"))   # the card as it was shown (its period)
    return redirect(back if back and back.startswith("/me") else url_for("me.card"))
