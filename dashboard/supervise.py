"""Scorecards, the agent page and the handle-time picture (supervisors; HR may read)."""
from __future__ import annotations

import math
from datetime import datetime

from flask import Blueprint, request
from flask_babel import gettext
from sqlalchemy import select

from callbacks.worklist import recovery
from dashboard import queries, svg
from dashboard.auth import can, guard
from dashboard.i18n import N_
from dashboard.web import choice_arg, db, or_404, page_range, render
from scoring.outcomes.rules import load_rules
from scoring.outcomes.sla import sla_report, sla_total
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.drilldown import agent_trend
from scoring.stats.cliff import detect_cliff
from store.agents import Agent
from store.flags import Flag

bp = Blueprint("supervise", __name__)
bp.before_request(guard("scorecards"))

BIN_SECONDS = 10
AFTER_CAP = 300  # seconds of the distribution shown past the cap

SORTS = {
    "agent": lambda r: r.agent_id,
    "team": lambda r: r.team or "",
    "handled": lambda r: r.handled,
    "response_rate": lambda r: r.response_rate,
    "adequacy": lambda r: r.adequacy.mean,
    "csat": lambda r: r.csat.mean,
    "fcr": lambda r: r.fcr.mean,
    "mean_rating": lambda r: r.mean_rating,
    "aht": lambda r: r.aht,
    "flags": lambda r: sum(r.confirmed_flags.values()),
    "composite": lambda r: r.composite.score if r.composite else None,
    "rank": lambda r: r.rank,
}
DEFAULT_SORT = {"agent": "asc", "team": "asc", "rank": "asc", "aht": "asc", "flags": "asc"}


def _value(value):
    getter = getattr(value, "mean", value)
    return None if getter is None or (isinstance(getter, float) and math.isnan(getter)) else getter


def sort_rows(rows: list, key: str, direction: str) -> list:
    """Sort by a column; rows with no value (insufficient data) always go last."""
    get = SORTS[key]
    present = [r for r in rows if _value(get(r)) is not None]
    missing = [r for r in rows if _value(get(r)) is None]
    return sorted(present, key=lambda r: _value(get(r)), reverse=direction == "desc") + missing


def _cx_total(cards: list) -> dict:
    """Centre-wide raw rates, weighted by each agent's answers (no shrinkage at centre level)."""
    out = {}
    for name in ("adequacy", "csat", "fcr"):
        ests = [getattr(c, name) for c in cards if getattr(c, name) is not None and getattr(c, name).n]
        n = sum(e.n for e in ests)
        out[name] = {"rate": sum(e.raw * e.n for e in ests) / n if n else None, "n": n}
    return out


@bp.get("/scorecards")
def scorecards():
    sort = choice_arg("sort", SORTS, N_("Sort"), default="composite")
    direction = choice_arg("dir", ("asc", "desc"), N_("Order"), default=DEFAULT_SORT.get(sort, "desc"))
    rules = load_rules()
    with db().session() as s:
        rng, known = page_range(s, request.args)
        teams = queries.teams(s)
        team = choice_arg("team", teams, N_("Team"))
        cards = build_scorecards(s, rng.start, rng.end, team=team, rollup=True)
        sla_rows = sla_report(s, rng.start, rng.end, by="queue", sla_seconds=rules.service_level_seconds,
                              short_abandon_seconds=rules.short_abandon_seconds)
        team_rows = sla_report(s, rng.start, rng.end, by="team", sla_seconds=rules.service_level_seconds,
                               short_abandon_seconds=rules.short_abandon_seconds)
        recovered = {"team": recovery(s, rng.start, rng.end, "team"), "agent": recovery(s, rng.start, rng.end, "agent")}
    if team:
        recovered["team"] = {k: v for k, v in recovered["team"].items() if k == team}
        recovered["agent"] = {k: v for k, v in recovered["agent"].items() if k in {r.agent_id for r in cards}}
    rows = sort_rows(list(cards), sort, direction)
    if team:
        team_rows = [r for r in team_rows if r.key == team]
    return render("scorecards.html", rng=rng, periods=known, team=team, teams=teams, rows=rows,
                  sort=sort, direction=direction, sla_queues=sla_rows,
                  sla=sla_total(team_rows if team else sla_rows), cx=_cx_total(rows),
                  sla_seconds=rules.service_level_seconds, recovered=recovered)


def _trend_chart(points: list[dict]) -> str:
    """``agent_trend``'s buckets (dicts with ISO ``bucket_start`` and Estimate dicts) as SVG."""
    labels = [datetime.fromisoformat(p["bucket_start"]).strftime("%d.%m") for p in points]

    def series(name):
        return [(p[name]["mean"], p[name]["low"], p[name]["high"]) if p.get(name) and p[name].get("n") else None
                for p in points]
    return svg.trend(labels, [svg.Series(gettext("Adequacy"), "s-adequacy", series("adequacy")),
                              svg.Series(gettext("CSAT"), "s-csat", series("csat"))], title=gettext("Weekly trends"))


def handle_time_chart(talk: list[int], rules, title: str):
    upper = int(math.ceil((rules.cap_seconds + AFTER_CAP) / BIN_SECONDS) * BIN_SECONDS)
    chart = svg.histogram(queries.bin_counts(talk, BIN_SECONDS, upper), BIN_SECONDS, rules.cap_seconds,
                          window=rules.cap_window_seconds, title=title, cap_label=gettext("cap"),
                          longer=gettext("%(start)s or longer"))
    verdict = detect_cliff(talk, rules.cap_seconds, window=rules.cap_window_seconds, alpha=rules.cliff_alpha,
                           min_calls=rules.cliff_min_calls)
    return chart, verdict


@bp.get("/agents/<agent_id>")
def agent(agent_id):
    rules = load_rules()
    with db().session() as s:
        who = or_404(s.get(Agent, agent_id))
        rng, known = page_range(s, request.args)
        card = next((c for c in build_scorecards(s, rng.start, rng.end, team=who.team or None, rollup=True)
                     if c.agent_id == agent_id), None)
        points = agent_trend(s, agent_id, rng.start, rng.end, bucket="week")
        calls = queries.list_calls(s, rng.start, rng.end, agent_id=agent_id) if can("calls") else None
        flags = list(s.scalars(select(Flag).where(Flag.agent_id == agent_id, Flag.occurred_at >= rng.start,
                                                  Flag.occurred_at < rng.end).order_by(Flag.occurred_at.desc()))
                     ) if can("flags") else None
        talk = queries.agent_ended_talk_times(s, rng.start, rng.end, agent_id=agent_id).get(agent_id, [])
    chart, verdict = handle_time_chart(talk, rules, gettext("Agent-ended talk times"))
    return render("agent.html", agent=who, rng=rng, periods=known, card=card,
                  trend_chart=_trend_chart(points) if points else None, calls=calls, flags=flags,
                  ht_chart=chart, ht_n=len(talk), verdict=verdict, rules=rules)


@bp.get("/handle-time")
def handle_time():
    rules = load_rules()
    with db().session() as s:
        rng, known = page_range(s, request.args)
        teams = queries.teams(s)
        team = choice_arg("team", teams, N_("Team"))
        by_agent = queries.agent_ended_talk_times(s, rng.start, rng.end, team=team)
    centre = [x for talks in by_agent.values() for x in talks]
    centre_chart, centre_verdict = handle_time_chart(centre, rules, gettext("Whole centre"))
    agents = []
    for agent_id, talks in sorted(by_agent.items(), key=lambda kv: -len(kv[1])):
        chart, verdict = handle_time_chart(talks, rules, agent_id)
        agents.append({"id": agent_id, "n": len(talks), "chart": chart, "verdict": verdict})
    return render("handle_time.html", rng=rng, periods=known, team=team, teams=teams, rules=rules,
                  centre_chart=centre_chart, centre_verdict=centre_verdict, centre_n=len(centre), agents=agents)
