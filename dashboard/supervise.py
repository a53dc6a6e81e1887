"""Scorecards, the agent page and the handle-time picture (supervisors; HR may read)."""
from __future__ import annotations

import math
from datetime import datetime

from flask import Blueprint, request
from flask_babel import gettext
from sqlalchemy import select

from dashboard import queries, svg
from dashboard.auth import can, guard
from dashboard.i18n import N_
from dashboard.sources import optional
from dashboard.web import choice_arg, db, or_404, page_range, render
from scoring.cliff import detect_cliff
from scoring.rules import load_rules
from store.agents import Agent
from store.flags import Flag

bp = Blueprint("supervise", __name__)
bp.before_request(guard("scorecards"))

BUILD = "scoring.scorecard.build_scorecards"
TREND = "scoring.scorecard.agent_trend"
SLA = "scoring.sla.sla_report"
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


def _sla_total(rows) -> dict | None:
    """The centre's figures from per-queue rows: each queue visit belongs to exactly one queue."""
    if rows is None:
        return None
    offered = sum(r.offered for r in rows)
    handled = sum(r.handled for r in rows)
    asa_w = sum(r.asa_seconds * r.handled for r in rows if r.asa_seconds is not None)
    return {
        "offered": offered, "handled": handled, "abandoned": sum(r.abandoned for r in rows),
        "short_abandons": sum(r.short_abandons for r in rows),
        "service_level": sum(r.answered_within for r in rows) / offered if offered else None,
        "abandonment_rate": sum(r.abandoned for r in rows) / offered if offered else None,
        "asa_seconds": asa_w / handled if handled else None,
    }


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
    build, sla = optional(BUILD), optional(SLA)
    with db().session() as s:
        rng, known = page_range(s, request.args)
        teams = queries.teams(s)
        team = choice_arg("team", teams, N_("Team"))
        cards = build(s, rng.start, rng.end, team=team, rollup=True) if build else None
        sla_rows = sla(s, rng.start, rng.end, by="queue", sla_seconds=rules.service_level_seconds,
                       short_abandon_seconds=rules.short_abandon_seconds) if sla else None
        team_rows = sla(s, rng.start, rng.end, by="team", sla_seconds=rules.service_level_seconds,
                        short_abandon_seconds=rules.short_abandon_seconds) if sla else None
    missing = [name for name, fn in ((BUILD, build), (SLA, sla)) if fn is None]
    rows = sort_rows(list(cards), sort, direction) if cards is not None else None
    if team and team_rows is not None:
        team_rows = [r for r in team_rows if r.key == team]
    return render("scorecards.html", rng=rng, periods=known, team=team, teams=teams, rows=rows,
                  sort=sort, direction=direction, missing=missing, sla_queues=sla_rows,
                  sla=_sla_total(team_rows if team else sla_rows), cx=_cx_total(rows or []),
                  sla_seconds=rules.service_level_seconds)


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
    build, trend = optional(BUILD), optional(TREND)
    with db().session() as s:
        who = or_404(s.get(Agent, agent_id))
        rng, known = page_range(s, request.args)
        card = None
        if build:
            card = next((c for c in build(s, rng.start, rng.end, team=who.team or None, rollup=True)
                         if c.agent_id == agent_id), None)
        points = trend(s, agent_id, rng.start, rng.end, bucket="week") if trend else None
        calls = queries.list_calls(s, rng.start, rng.end, agent_id=agent_id) if can("calls") else None
        flags = list(s.scalars(select(Flag).where(Flag.agent_id == agent_id, Flag.occurred_at >= rng.start,
                                                  Flag.occurred_at < rng.end).order_by(Flag.occurred_at.desc()))
                     ) if can("flags") else None
        talk = queries.agent_ended_talk_times(s, rng.start, rng.end, agent_id=agent_id).get(agent_id, [])
    chart, verdict = handle_time_chart(talk, rules, gettext("Agent-ended talk times"))
    missing = [name for name, fn in ((BUILD, build), (TREND, trend)) if fn is None]
    return render("agent.html", agent=who, rng=rng, periods=known, card=card, missing=missing,
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
