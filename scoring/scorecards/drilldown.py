"""Drill-down behind a scorecard: an agent's trend over time and the calls behind one number."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session, aliased

from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.statistics import finite
from scoring.scorecards.tally import in_range, last_bridged, next_calls
from scoring.stats.shrinkage import fit_beta_prior, shrink_many
from store.calls import Call, Leg, QueueEntry, SurveyAnswer
from store.flags import Flag

RATE_QUESTIONS = ("adequate", "satisfaction")
TRACE_METRICS = ("handled", "surveys_offered", "surveys_completed", "adequacy", "csat", "mean_rating",
                 "fcr", "aht", "confirmed_flags")


def _bucket_start(at: datetime, bucket: str, tz: ZoneInfo) -> datetime:
    local = at.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if bucket == "week":
        local -= timedelta(days=local.weekday())
    elif bucket == "month":
        local = local.replace(day=1)
    return local.replace(tzinfo=tz)


def agent_trend(session: Session, agent_id: str, start: datetime, end: datetime, bucket: str = "week",
                *, config: ScoringConfig | None = None) -> list[dict]:
    """The agent's adequacy and CSAT per day/week/month bucket (centre-local), each shrunk toward
    the centre's rate over [start, end) with an interval. Not case-mix adjusted: it shows the
    agent against their own past, on whatever calls they took."""
    if bucket not in ("day", "week", "month"):
        raise ValueError("bucket must be day, week or month")
    cfg = config or load_config()
    A = SurveyAnswer
    rows = session.execute(
        select(A.agent_id, A.question, A.value, Call.started_at).join(Call, Call.sid == A.call_sid)
        .where(in_range(start, end), A.status == "answered", A.question.in_(RATE_QUESTIONS))).all()
    success = {"adequate": lambda v: v == cfg.adequate_yes_value, "satisfaction": lambda v: v >= cfg.csat_top_box_min}
    per_agent: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    buckets: dict[datetime, dict[str, list[int]]] = defaultdict(lambda: {q: [0, 0] for q in RATE_QUESTIONS})
    for agent, question, value, at in rows:
        ok = int(success[question](value))
        per_agent[(question, agent)][0] += 1
        per_agent[(question, agent)][1] += ok
        if agent == agent_id:
            b = buckets[_bucket_start(at, bucket, cfg.tz)][question]
            b[0] += 1
            b[1] += ok
    priors = {}
    for q in RATE_QUESTIONS:
        counts = [v for (qq, _a), v in per_agent.items() if qq == q]
        priors[q] = fit_beta_prior([c[1] for c in counts], [c[0] for c in counts])
    out = []
    for at in sorted(buckets):
        point = {"bucket_start": at.isoformat()}
        for q, name in (("adequate", "adequacy"), ("satisfaction", "csat")):
            n, x = buckets[at][q]
            point[name] = finite(asdict(shrink_many([x], [n], priors[q], cfg.interval_level)[0]))
        out.append(point)
    return out


def trace(session: Session, agent_id: str, start: datetime, end: datetime, metric: str,
          *, config: ScoringConfig | None = None) -> list[dict]:
    """The calls behind one scorecard number, oldest first (no caller phone numbers)."""
    if metric not in TRACE_METRICS:
        raise ValueError(f"metric must be one of {', '.join(TRACE_METRICS)}")
    cfg = config or load_config()
    if metric == "confirmed_flags":
        q = (select(Flag).where(Flag.agent_id == agent_id, Flag.state == "confirmed",
                                Flag.occurred_at >= start, Flag.occurred_at < end).order_by(Flag.occurred_at))
        return [{"flag_id": f.id, "kind": f.kind, "call_sid": f.call_sid, "leg_id": f.leg_id,
                 "occurred_at": f.occurred_at.isoformat(), "reason": f.reason,
                 "penalised": f.kind in cfg.penalised_flags} for f in session.scalars(q)]
    base = [Leg.id, Leg.call_sid, Call.started_at, Leg.queue, Leg.language, QueueEntry.reason,
            Leg.talk_seconds, Leg.ended_by, Leg.survey_state]
    names = ["leg_id", "call_sid", "started_at", "queue", "language", "reason", "talk_seconds", "ended_by",
             "survey_state"]
    where = [Leg.agent_id == agent_id, in_range(start, end)]
    extra: list = []
    joins = []
    if metric in ("handled", "aht"):
        where.append(Leg.bridged.is_(True))
    elif metric == "surveys_offered":
        where.append(Leg.survey_state != "not-offered")
    elif metric == "fcr":
        nxt, repeat = next_calls(session, start, end)
        joins.append((nxt, nxt.c.sid == Leg.call_sid))
        where.append(last_bridged())
        extra = [case((repeat, True), else_=False), case((repeat, nxt.c.next_sid), else_=None)]
        names += ["repeat", "repeat_call_sid"]
    else:
        question = {"adequacy": "adequate", "csat": "satisfaction", "mean_rating": "satisfaction",
                    "surveys_completed": None}[metric]
        A = aliased(SurveyAnswer)
        cond = [A.leg_id == Leg.id, A.status == "answered"]
        cond.append(A.question == question if question else A.question.in_(RATE_QUESTIONS))
        joins.append((A, and_(*cond)))
        if question:
            extra = [A.value]
            names.append("value")
    q = select(*base, *extra).join(Call, Call.sid == Leg.call_sid).join(QueueEntry, QueueEntry.id == Leg.entry_id)
    for target, on in joins:
        q = q.join(target, on)
    q = q.where(*where).order_by(Call.started_at, Leg.id)
    if metric == "surveys_completed":
        q = q.distinct()
    out = []
    for row in session.execute(q):
        item = dict(zip(names, row))
        item["started_at"] = item["started_at"].isoformat()
        if metric == "adequacy":
            item["success"] = item["value"] == cfg.adequate_yes_value
        elif metric == "csat":
            item["success"] = item["value"] >= cfg.csat_top_box_min
        out.append(item)
    return out
