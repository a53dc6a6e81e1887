"""The centre's week by week: service level, abandonment, adequacy and CSAT, the four figures
a supervisor watches beside the scorecards. Weeks are the centre's local Monday-to-Sunday;
the first and last are cut to the range, so every call counts in exactly one week."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring import metrics
from scoring.outcomes.sla import sla_report, sla_total
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.tally import in_range
from store.calls import Call, SurveyAnswer


def _monday(at: datetime, tz) -> datetime:
    local = at.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return (local - timedelta(days=local.weekday())).replace(tzinfo=None)


def centre_trend(session: Session, start: datetime, end: datetime, *, sla_seconds: int,
                 short_abandon_seconds: int, config: ScoringConfig | None = None) -> list[dict]:
    """One dict per week of [start, end): ``week`` (its local Monday), the SLA total's figures
    (``offered``, ``service_level``, ``abandonment_rate``) and the centre's raw adequacy and
    CSAT (``adequacy``, ``csat`` with their answer counts ``adequacy_n``, ``csat_n``) and the
    satisfaction index of both together (``satisfaction_index``, the callers' index at centre level)."""
    cfg = config or load_config()
    tz = cfg.tz
    rows = session.execute(
        select(SurveyAnswer.question, SurveyAnswer.value, Call.started_at).join(Call, Call.sid == SurveyAnswer.call_sid)
        .where(in_range(start, end), SurveyAnswer.status == "answered",
               SurveyAnswer.question.in_(("adequate", "satisfaction")))).all()
    answers: dict[datetime, dict[str, list[int]]] = defaultdict(lambda: {"adequate": [0, 0], "satisfaction": [0, 0]})
    for question, value, at in rows:
        ok = value == cfg.adequate_yes_value if question == "adequate" else value >= cfg.csat_top_box_min
        cell = answers[_monday(at, tz)][question]
        cell[0] += 1
        cell[1] += int(ok)
    out = []
    week = _monday(start, tz)
    while True:
        lo = max(week.replace(tzinfo=tz), start)
        hi = min((week + timedelta(days=7)).replace(tzinfo=tz), end)
        if lo >= end:
            break
        total = sla_total(sla_report(session, lo, hi, by="queue", sla_seconds=sla_seconds,
                                     short_abandon_seconds=short_abandon_seconds))
        adequate, satisfied = answers[week]["adequate"], answers[week]["satisfaction"]
        if total["offered"] or adequate[0] or satisfied[0]:
            out.append({"week": week.date(), "offered": total["offered"], "service_level": total["service_level"],
                        "abandonment_rate": total["abandonment_rate"],
                        "adequacy": metrics.rate(adequate[1], adequate[0]), "adequacy_n": adequate[0],
                        "csat": metrics.rate(satisfied[1], satisfied[0]), "csat_n": satisfied[0],
                        "satisfaction_index": metrics.satisfaction_index(adequate[1] + satisfied[1],
                                                                         adequate[0] + satisfied[0])})
        week += timedelta(days=7)
    return out
