"""Callers at risk: each caller number's satisfaction index over a rolling window, and the
factors of dissatisfaction the record shows, each with its evidence (issue 14).

A caller is a number (``Call.from_number``; the numbers ``rules.toml`` ``[repeat]`` ignores are
nobody in particular and never listed). Everything counts by the call it belongs to: a call
started in the window brings its survey answers (whatever the channel: the call, an SMS or a
follow-up call, even when the answer came after the window), its queue visits and its call-back
tasks. Definitions and defaults: docs/scoring.md, "Callers at risk"; settings: ``scoring.toml``
``[at_risk]``. The dashboard page, ``flask callers at-risk`` and the tests read ``at_risk``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from scoring import metrics
from scoring.outcomes.rules import Rules, load_rules
from scoring.outcomes.sla import TRANSFER_QUESTION, TRANSFER_VALUE
from scoring.scorecards.config import RISK_FACTORS, ScoringConfig, load_config
from scoring.scorecards.tally import in_range, next_calls
from store.base import utcnow
from store.callbacks import CallbackTask
from store.calls import Call, QueueEntry, SurveyAnswer

ADEQUATE, RATING = "adequate", "satisfaction"
TODO_STATES, FAILED_STATES = ("open", "called"), ("not-reached", "declined")
"""Call-back task states (``store.callbacks``): still to do, and failed. ``not-reached`` is still
to do for the worklist, but here it is a failed attempt, which weighs more than a late one."""


def shrunk_index(good: int, answers: int, centre: float | None, prior_answers: float) -> float | None:
    """A caller's index pulled toward the centre's: (good + m·C) / (n + m). None without answers
    (an unknown caller is not an unhappy one) or, with no centre figure, the raw share."""
    if not answers:
        return None
    if centre is None or prior_answers <= 0:
        return good / answers
    return (good + prior_answers * centre) / (answers + prior_answers)


def index_points(index: float | None, centre: float | None, most: float) -> float:
    """Risk points for an index below the centre's: ``most`` at 0, none at or above the centre
    (a happy caller of an unhappy centre is not at risk), none without answers."""
    if index is None or not centre or index >= centre:
        return 0.0
    return most * (centre - index) / centre


@dataclass
class CallerRisk:
    """One caller in the window: the index, each factor's evidence and the risk score."""

    number: str                 # the whole number: the dashboard and the CLI mask it
    key: str = ""               # the CallSid of the caller's latest call in the window: an opaque handle
    calls: int = 0
    last_at: datetime | None = None
    answers: int = 0            # adequacy and rating answers
    good: int = 0               # of those, "yes" and top-box ratings
    index: float | None = None  # shrunk, in [0, 1]
    evidence: dict[str, list[str]] = field(default_factory=dict)   # factor -> CallSids (tasks: "task:ID")
    score: float = 0.0

    @property
    def raw_index(self) -> float | None:
        return metrics.satisfaction_index(self.good, self.answers)

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """``(factor, count)`` for the factors present, in ``RISK_FACTORS`` order."""
        return [(f, len(self.evidence[f])) for f in RISK_FACTORS if self.evidence.get(f)]


@dataclass(frozen=True)
class Assessment:
    start: datetime
    end: datetime
    centre_index: float | None  # the centre's raw index over the window
    callers: list[CallerRisk]   # at risk, the riskiest first
    assessed: int               # callers with any answer or factor in the window


def _events(session: Session, start: datetime, end: datetime, cfg: ScoringConfig, rules: Rules, now: datetime):
    """``(number, factor, evidence, call started_at)`` for every factor occurrence of the window."""
    window = in_range(start, end)
    answered = (select(Call.from_number, SurveyAnswer.call_sid, Call.started_at)
                .join(Call, Call.sid == SurveyAnswer.call_sid).where(window, SurveyAnswer.status == "answered"))
    for row in session.execute(answered.where(SurveyAnswer.question == ADEQUATE,
                                              SurveyAnswer.value == rules.adequate_no_value)):
        yield row[0], "unresolved", row[1], row[2]
    for row in session.execute(answered.where(SurveyAnswer.question == TRANSFER_QUESTION,
                                              SurveyAnswer.value == TRANSFER_VALUE)):
        yield row[0], "transfer_back", row[1], row[2]
    visits = select(Call.from_number, QueueEntry.call_sid, Call.started_at, QueueEntry.state,
                    func.coalesce(QueueEntry.wait_seconds, 0)).join(Call, Call.sid == QueueEntry.call_sid).where(window)
    for number, sid, at, state, wait in session.execute(visits):
        if state == "abandoned" and wait >= rules.short_abandon_seconds:
            yield number, "abandoned", sid, at
        elif state != "abandoned" and wait > rules.service_level_seconds:
            yield number, "long_wait", sid, at
    # A repeat call is the FCR's: the same number again within [repeat] window_hours.
    nxt, repeat = next_calls(session, start - timedelta(hours=rules.repeat_window_hours), end)
    repeats = (select(Call.from_number, Call.sid, Call.started_at).join(nxt, nxt.c.next_sid == Call.sid)
               .where(repeat, window))
    for row in session.execute(repeats):
        yield row[0], "repeat_call", row[1], row[2]
    tasks = select(Call.from_number, CallbackTask.id, CallbackTask.state, CallbackTask.due_at, Call.started_at) \
        .join(Call, Call.sid == CallbackTask.call_sid).where(window)
    for number, task_id, state, due_at, at in session.execute(tasks):
        if state in FAILED_STATES:
            yield number, "task_failed", f"task:{task_id}", at
        elif state in TODO_STATES:
            yield number, "task_overdue" if due_at < now else "task_open", f"task:{task_id}", at


def assess(session: Session, *, now: datetime | None = None, config: ScoringConfig | None = None,
           rules: Rules | None = None) -> Assessment:
    """Every caller of the window ``[now - window_days, now)`` with an answer or a factor, scored;
    ``callers`` keeps those at or above ``min_score``, the highest score first (then the most
    recent call, then the number)."""
    cfg, rules, now = config or load_config(), rules or load_rules(), now or utcnow()
    risk = cfg.at_risk
    start = now - timedelta(days=risk.window_days)
    ignored = sorted(rules.ignore_numbers)
    callers: dict[str, CallerRisk] = {}

    def caller(number: str) -> CallerRisk:
        return callers.setdefault(number, CallerRisk(number))

    good_answer = ((SurveyAnswer.question == ADEQUATE) & (SurveyAnswer.value == cfg.adequate_yes_value)) | \
        ((SurveyAnswer.question == RATING) & (SurveyAnswer.value >= cfg.csat_top_box_min))
    counts = session.execute(
        select(Call.from_number, func.count(), func.sum(case((good_answer, 1), else_=0)))
        .join(Call, Call.sid == SurveyAnswer.call_sid)
        .where(in_range(start, now), SurveyAnswer.status == "answered", SurveyAnswer.question.in_((ADEQUATE, RATING)))
        .group_by(Call.from_number)).all()
    centre = metrics.satisfaction_index(sum(int(g or 0) for _, _, g in counts), sum(n for _, n, _ in counts))
    for number, n, good in counts:
        if (number or "").lower() not in ignored:
            caller(number).answers, caller(number).good = n, int(good or 0)
    for number, factor, evidence, _ in _events(session, start, now, cfg, rules, now):
        if (number or "").lower() not in ignored:
            found = caller(number).evidence.setdefault(factor, [])
            if evidence not in found:
                found.append(evidence)
    _calls(session, start, now, callers)
    for c in callers.values():
        c.index = shrunk_index(c.good, c.answers, centre, risk.prior_answers)
        points = sum(risk.weight(f) * n for f, n in c.reasons)
        c.score = round(points + index_points(c.index, centre, risk.index_points), 2)
    listed = sorted((c for c in callers.values() if c.score >= risk.min_score),
                    key=lambda c: (-c.score, -c.last_at.timestamp(), c.number))
    return Assessment(start, now, centre, listed, len(callers))


def _calls(session: Session, start: datetime, end: datetime, callers: dict[str, CallerRisk]) -> None:
    """Each caller's number of calls in the window and the latest one (its ``key``)."""
    numbers = sorted(callers)
    for chunk in (numbers[i:i + 500] for i in range(0, len(numbers), 500)):
        rows = session.execute(select(Call.from_number, Call.sid, Call.started_at)
                               .where(in_range(start, end), Call.from_number.in_(chunk))
                               .order_by(Call.started_at, Call.sid))
        for number, sid, at in rows:
            c = callers[number]
            c.calls, c.key, c.last_at = c.calls + 1, sid, at

