"""Scorecards, the agent page and the handle-time picture (supervisors; HR may read)."""
from __future__ import annotations

import math
from datetime import datetime

from flask import Blueprint, abort, request
from flask_babel import gettext
from sqlalchemy import func, select

from callbacks.checks import caller_recovery
from callbacks.worklist import recovery
from dashboard import call_list, queries, svg
from dashboard.auth import can, guard
from dashboard.call_list import CallFilter
from dashboard.csv_out import csv_response, refused_filter
from dashboard.i18n import N_, label
from dashboard.paging import paged
from dashboard.web import choice_arg, db, or_404, page_range, render
from scoring.outcomes.rules import load_rules
from scoring.outcomes.sla import sla_report, sla_total
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.drilldown import TRACE_METRICS, agent_trend, trace
from scoring.stats.cliff import detect_cliff
from scoring.trends import centre_trend
from store.agents import Agent
from store.flags import Flag

bp = Blueprint("supervise", __name__)
bp.before_request(guard("scorecards"))

BIN_SECONDS = 10
AFTER_CAP = 300  # seconds of the distribution shown past the cap
AGENT_PAGE = 25  # rows per list on the agent page, which has two

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
    """Sort by a column; rows with insufficient data, or no value, always go last
    (docs/supervisors.md): a shrunk estimate of few answers must not rank mid-table."""
    get = SORTS[key]
    last = lambda r: getattr(r, "insufficient", False) or _value(get(r)) is None  # noqa: E731
    present = [r for r in rows if not last(r)]
    missing = [r for r in rows if last(r)]
    return sorted(present, key=lambda r: _value(get(r)), reverse=direction == "desc") + missing


def _cx_total(cards: list) -> dict:
    """Centre-wide raw rates, weighted by each agent's answers (no shrinkage at centre level)."""
    out = {}
    for name in ("adequacy", "csat", "fcr"):
        ests = [getattr(c, name) for c in cards if getattr(c, name) is not None and getattr(c, name).n]
        n = sum(e.n for e in ests)
        out[name] = {"rate": sum(e.raw * e.n for e in ests) / n if n else None, "n": n}
    return out


def _selection(s):
    """The scorecards of the query string's range and team, sorted as asked."""
    sort = choice_arg("sort", SORTS, N_("Sort"), default="composite")
    direction = choice_arg("dir", ("asc", "desc"), N_("Order"), default=DEFAULT_SORT.get(sort, "desc"))
    rng, known = page_range(s, request.args)
    teams = queries.teams(s)
    team = choice_arg("team", teams, N_("Team"))
    cards = build_scorecards(s, rng.start, rng.end, team=team, rollup=True)
    return rng, team, sort_rows(list(cards), sort, direction), {
        "periods": known, "teams": teams, "sort": sort, "direction": direction}


@bp.get("/scorecards")
def scorecards():
    rules = load_rules()
    with db().session() as s:
        rng, team, rows, shown = _selection(s)
        sla_rows = sla_report(s, rng.start, rng.end, by="queue", sla_seconds=rules.service_level_seconds,
                              short_abandon_seconds=rules.short_abandon_seconds)
        team_rows = sla_report(s, rng.start, rng.end, by="team", sla_seconds=rules.service_level_seconds,
                               short_abandon_seconds=rules.short_abandon_seconds)
        recovered = {"team": recovery(s, rng.start, rng.end, "team"), "agent": recovery(s, rng.start, rng.end, "agent")}
        said = {by: caller_recovery(s, rng.start, rng.end, by) for by in ("team", "agent")}
        weeks = centre_trend(s, rng.start, rng.end, sla_seconds=rules.service_level_seconds,
                             short_abandon_seconds=rules.short_abandon_seconds)
    if team:
        team_rows = [r for r in team_rows if r.key == team]
        recovered["team"] = {k: v for k, v in recovered["team"].items() if k == team}
        recovered["agent"] = {k: v for k, v in recovered["agent"].items() if k in {r.agent_id for r in rows}}
    page = paged(len(rows))
    return render("scorecards.html", rng=rng, team=team, rows=rows, page=page,
                  page_rows=rows[page.offset:page.offset + page.size], sla_queues=sla_rows,
                  sla=sla_total(team_rows if team else sla_rows), cx=_cx_total(rows),
                  sla_seconds=rules.service_level_seconds, recovered=recovered, said=said,
                  centre_chart=_centre_chart(weeks) if weeks else None,
                  index_chart=_index_chart(weeks) if weeks else None, **shown)


def _pct(value) -> float | None:
    value = _value(value)
    return None if value is None else round(100 * value, 1)


@bp.get("/scorecards.csv")
def scorecards_csv():
    """The scorecards as shown (range, team, sort), one row per agent, numbers as numbers."""
    with db().session() as s:
        rng, team, rows, _ = _selection(s)
    if (refused := refused_filter()) is not None:
        return refused
    header = [gettext("Rank"), gettext("Agent"), gettext("Name"), gettext("Team"), gettext("Handled"),
              gettext("Response rate %")]
    for name in ("Adequacy", "CSAT", "FCR"):
        metric = gettext(name)
        header += [gettext("%(metric)s %%", metric=metric), gettext("%(metric)s low %%", metric=metric),
                   gettext("%(metric)s high %%", metric=metric), f"{metric} n"]
    header += [gettext("Mean rating"), gettext("AHT (s)"), gettext("Calls/shift"), gettext("Confirmed flags"),
               gettext("Composite"), gettext("insufficient data"), gettext("Tier"), gettext("Multiplier")]

    def line(r):
        out = [r.rank, r.agent_id, r.name or "", r.team or "", r.handled, _pct(r.response_rate)]
        for est in (r.adequacy, r.csat, r.fcr):
            missing = est is None or not est.n
            out += [None if missing else _pct(est.mean), None if missing else _pct(est.low),
                    None if missing else _pct(est.high), est.n if est else 0]
        rating = _value(r.mean_rating)
        out += [None if rating is None else round(rating, 2), None if r.aht is None else round(r.aht),
                None if r.calls_per_shift is None else round(r.calls_per_shift, 1), sum(r.confirmed_flags.values()),
                None if r.insufficient or not r.composite else round(r.composite.score, 1),
                gettext("yes") if r.insufficient else gettext("no"), label("tier", r.tier), r.multiplier]
        return out
    name = f"scorecards-{rng.first_day}-{rng.last_day}{'-' + team if team else ''}.csv"
    return csv_response(name, header, (line(r) for r in rows))


def _centre_chart(weeks: list[dict]) -> str:
    """``centre_trend``'s weeks as one SVG: four centre rates (no intervals: they are counts, not estimates)."""
    def series(name):
        return [None if w[name] is None else (w[name], w[name], w[name]) for w in weeks]
    return svg.trend([w["week"].strftime("%d.%m") for w in weeks],
                     [svg.Series(gettext("Service level"), "s-sl", series("service_level")),
                      svg.Series(gettext("Abandonment"), "s-abandon", series("abandonment_rate")),
                      svg.Series(gettext("Adequacy"), "s-adequacy", series("adequacy")),
                      svg.Series(gettext("CSAT"), "s-csat", series("csat"))],
                     title=gettext("The centre by week"), width=520)


def _index_chart(weeks: list[dict]) -> str:
    """The centre's satisfaction index by week (the at-risk page's index at centre level) beside
    its service level, so a week of long queues and one of unhappy callers can be told apart."""
    def series(name):
        return [None if w[name] is None else (w[name], w[name], w[name]) for w in weeks]
    return svg.trend([w["week"].strftime("%d.%m") for w in weeks],
                     [svg.Series(gettext("Satisfaction index"), "s-index", series("satisfaction_index")),
                      svg.Series(gettext("Service level"), "s-sl", series("service_level"))],
                     title=gettext("Satisfaction index by week"), width=520)


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
    calls = flags = calls_page = flags_page = None
    with db().session() as s:
        who = or_404(s.get(Agent, agent_id))
        rng, known = page_range(s, request.args)
        card = next((c for c in build_scorecards(s, rng.start, rng.end, team=who.team or None, rollup=True)
                     if c.agent_id == agent_id), None)
        points = agent_trend(s, agent_id, rng.start, rng.end, bucket="week")
        if can("calls"):
            selection = CallFilter(rng.start, rng.end, agent_id=agent_id)
            calls_page = paged(call_list.count_calls(s, selection), "calls_page", AGENT_PAGE)
            calls = call_list.list_calls(s, selection, offset=calls_page.offset, limit=calls_page.size)
        if can("flags"):
            where = (Flag.agent_id == agent_id, Flag.occurred_at >= rng.start, Flag.occurred_at < rng.end)
            flags_page = paged(s.scalar(select(func.count()).select_from(Flag).where(*where)), "flags_page", AGENT_PAGE)
            flags = list(s.scalars(select(Flag).where(*where).order_by(Flag.occurred_at.desc(), Flag.id.desc())
                                   .offset(flags_page.offset).limit(flags_page.size)))
        talk = queries.agent_ended_talk_times(s, rng.start, rng.end, agent_id=agent_id).get(agent_id, [])
    chart, verdict = handle_time_chart(talk, rules, gettext("Agent-ended talk times"))
    return render("agent.html", agent=who, rng=rng, periods=known, card=card,
                  trend_chart=_trend_chart(points) if points else None, trend_weeks=len(points), calls=calls, flags=flags,
                  calls_page=calls_page, flags_page=flags_page,
                  ht_chart=chart, ht_n=len(talk), verdict=verdict, rules=rules)


TRACED = tuple(m for m in TRACE_METRICS if m != "confirmed_flags")   # flags have their own list


@bp.get("/agents/<agent_id>/calls/<metric>")
def trace_calls(agent_id, metric):
    """The calls behind one of the agent's numbers (a scorecard's n), for the same range."""
    if metric not in TRACED:
        abort(404)
    with db().session() as s:
        who = or_404(s.get(Agent, agent_id))
        rng, known = page_range(s, request.args)
        rows = trace(s, agent_id, rng.start, rng.end, metric)
    page = paged(len(rows))
    shown = rows[page.offset:page.offset + page.size]
    for row in shown:
        row["started_at"] = datetime.fromisoformat(row["started_at"])
    return render("trace.html", agent=who, metric=metric, rng=rng, periods=known, rows=shown, page=page)


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
