"""The counts a scorecard is built from, per agent and mix cell, in set-based SQL.

A call belongs to the range by `Call.started_at` (Twilio's time). First-contact resolution
counts, per call whose last bridged agent this was, whether the same number called again
within the repeat window of `scoring/rules.toml`. The counts of disjoint time ranges add up,
which is what the daily rollup (``scoring.scorecards.rollup``) relies on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from scoring.outcomes.rules import load_rules
from scoring.scorecards.config import MIX_COLUMNS, ScoringConfig
from store.calls import Call, Leg, QueueEntry, SurveyAnswer
from store.followups import Followup

WORK_MEM = "128MB"
"""PostgreSQL memory per hash/sort for the scorecard queries (SET LOCAL, this transaction
only): the default 4MB spills the legs hash joins of a million-call month to disk."""


def in_range(start: datetime, end: datetime):
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("start and end must be timezone-aware with start < end")
    return and_(Call.started_at >= start, Call.started_at < end)


def _mix_exprs(channel=None):
    return {"queue": Leg.queue, "language": func.coalesce(Leg.language, ""), "reason": QueueEntry.reason,
            "channel": channel}


FUNNEL = ("legs", "incall_completed", "followups_sent", "followups_answered")
COUNTS = ("handled", "offered", "talk_seconds", "completed", "adequate_n", "adequate_yes", "csat_n", "csat_top",
          "rating_sum", "rating_sq", "fcr_n", "fcr_repeats", *FUNNEL)
"""What a scorecard is built from, per agent and mix cell: plain counts, so the counts of
disjoint time ranges add up (``scoring.scorecards.rollup`` stores them per day). ``offered``
counts legs asked by any channel (in the call, or a follow-up sent), ``completed`` legs
answered by any."""
FCR_AT = COUNTS.index("fcr_n")
FUNNEL_AT = COUNTS.index("legs")
FOLLOWUP_CHANNELS = ("sms", "callback")


@dataclass
class Tally:
    """Counts per (agent, (queue, language, reason, channel)) in ``COUNTS`` order, and days worked per agent."""
    cells: dict[tuple[str, tuple], list[int]] = field(default_factory=dict)
    shift_days: dict[str, int] = field(default_factory=dict)

    def add(self, agent: str, mix: tuple, counts, offset: int = 0) -> None:
        cell = self.cells.setdefault((agent, tuple(mix)), [0] * len(COUNTS))
        for i, v in enumerate(counts, offset):
            cell[i] += int(v or 0)

    def merge(self, other: "Tally") -> "Tally":
        for (agent, mix), counts in other.cells.items():
            self.add(agent, mix, counts)
        for agent, days in other.shift_days.items():
            self.shift_days[agent] = self.shift_days.get(agent, 0) + days
        return self


def live_tally(session: Session, start: datetime, end: datetime, cfg: ScoringConfig,
               seen_before: datetime | None = None) -> Tally:
    """The counts of [start, end) straight from calls, legs and answers (three GROUP BYs).
    With ``seen_before``, repeat calls count only if they started before it (what the daily
    rollup stores of a day whose repeat-call window is still open; ``later_repeats`` adds the rest)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    tally = Tally(shift_days=_shift_days(session, start, end))
    for agent, mix, *counts in _leg_cells(session, start, end, cfg):
        tally.add(agent, mix, counts[:FCR_AT])
        tally.add(agent, mix, counts[FCR_AT:], offset=FUNNEL_AT)
    for agent, mix, n, repeats in _fcr_cells(session, start, end, seen_before):
        tally.add(agent, mix, (n, repeats), offset=FCR_AT)
    return tally


def later_repeats(session: Session, start: datetime, end: datetime, since: datetime) -> Tally:
    """First contacts in [start, end) whose repeat call started at or after ``since``: the part
    of their first-contact resolution that ``live_tally(..., seen_before=since)`` left out, so
    the two add up to ``live_tally``. Driven by the calls since ``since`` (a few hours' worth),
    each looking up the same number's previous call through ``ix_calls_from_number_started_at``."""
    rules = load_rules()
    recent, prev = aliased(Call), aliased(Call)
    earlier = or_(prev.started_at < recent.started_at,
                  and_(prev.started_at == recent.started_at, prev.sid < recent.sid))
    previous = (select(prev.sid).where(prev.from_number == recent.from_number, earlier,
                                       _since(session, prev.started_at, recent.started_at, rules.repeat_window_hours))
                .order_by(prev.started_at.desc(), prev.sid.desc()).limit(1).scalar_subquery())
    pairs = (select(recent.started_at.label("at"), previous.label("prev_sid"))
             .where(recent.started_at >= since,   # a repeat of a call in range comes before end + window
                    recent.started_at < end + timedelta(hours=rules.repeat_window_hours),
                    func.lower(recent.from_number).not_in(sorted(rules.ignore_numbers))).subquery())
    mix = [_mix_exprs()[m] for m in MIX_COLUMNS if m != "channel"]
    q = (select(Leg.agent_id, *mix, func.count())
         .select_from(pairs).join(Call, Call.sid == pairs.c.prev_sid).join(Leg, Leg.call_sid == Call.sid)
         .join(QueueEntry, QueueEntry.id == Leg.entry_id)
         .where(in_range(start, end), last_bridged(),
                _within(session, Call.started_at, pairs.c.at, rules.repeat_window_hours))
         .group_by(Leg.agent_id, *mix))
    tally, width = Tally(), len(mix)
    for r in session.execute(q):
        tally.add(r[0], (*r[1:1 + width], ""), (0, int(r[1 + width])), offset=FCR_AT)
    return tally


def _leg_cells(session: Session, start, end, cfg: ScoringConfig) -> list[tuple]:
    """One pass over the range's legs, per (agent, mix cell): handled, offered, talk seconds,
    completed surveys, adequacy n/yes and CSAT n/top-box/sum/sum of squares, then the funnel
    (``FUNNEL``). Each leg has at most one answer per question and one follow-up, so the outer
    joins never multiply rows."""
    bridged = Leg.bridged.is_(True)
    adq, sat = aliased(SurveyAnswer), aliased(SurveyAnswer)
    answered = lambda a, q: and_(a.leg_id == Leg.id, a.question == q, a.status == "answered")  # noqa: E731
    has_adq, has_sat = adq.id.is_not(None), sat.id.is_not(None)
    by = lambda channels: or_(adq.channel.in_(channels), sat.channel.in_(channels))  # noqa: E731
    mix = [_mix_exprs(func.coalesce(sat.channel, adq.channel, ""))[m] for m in MIX_COLUMNS]
    q = (select(Leg.agent_id, *mix,
                func.sum(case((bridged, 1), else_=0)),
                func.sum(case((Leg.survey_state != "not-offered", 1), else_=0)),
                func.sum(case((bridged, func.coalesce(Leg.talk_seconds, 0)), else_=0)),
                func.sum(case((or_(has_adq, has_sat), 1), else_=0)),
                func.sum(case((has_adq, 1), else_=0)),
                func.sum(case((adq.value == cfg.adequate_yes_value, 1), else_=0)),
                func.sum(case((has_sat, 1), else_=0)),
                func.sum(case((sat.value >= cfg.csat_top_box_min, 1), else_=0)),
                func.sum(func.coalesce(sat.value, 0)),
                func.sum(func.coalesce(sat.value * sat.value, 0)),
                func.count(),
                func.sum(case((by(("call",)), 1), else_=0)),
                func.sum(case((Followup.sent_at.is_not(None), 1), else_=0)),
                func.sum(case((by(FOLLOWUP_CHANNELS), 1), else_=0)))
         .join(Call, Call.sid == Leg.call_sid).join(QueueEntry, QueueEntry.id == Leg.entry_id)
         .outerjoin(adq, answered(adq, "adequate")).outerjoin(sat, answered(sat, "satisfaction"))
         .outerjoin(Followup, Followup.leg_id == Leg.id)
         .where(in_range(start, end)).group_by(Leg.agent_id, *mix))
    width = len(MIX_COLUMNS)
    return [(r[0], tuple(r[1:1 + width]), *r[1 + width:]) for r in session.execute(q)]


def _shift_days(session: Session, start, end) -> dict[str, int]:
    """Days (UTC) with a handled call per agent: DISTINCT in a subquery hashes, where
    count(DISTINCT ...) would sort every leg."""
    day = _utc_date(session, Call.started_at)
    days = (select(Leg.agent_id.label("agent_id"), day.label("day"))
            .join(Call, Call.sid == Leg.call_sid).where(in_range(start, end), Leg.bridged.is_(True))
            .distinct().subquery())
    return {a: int(n) for a, n in session.execute(select(days.c.agent_id, func.count()).group_by(days.c.agent_id))}


def _utc_date(session: Session, column):
    """The UTC calendar date of a timestamp column (on PostgreSQL whatever the session's TimeZone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _since(session: Session, column, later, hours: float):
    """``_within(column, later)`` written as a bound on ``column``, so that PostgreSQL reads
    only the partitions of ``calls`` it can fall in (an older previous call is no repeat)."""
    if session.get_bind().dialect.name == "sqlite":
        return _within(session, column, later, hours)
    return column >= later - func.make_interval(0, 0, 0, 0, 0, 0, hours * 3600.0)


def _within(session: Session, earlier, later, hours: float):
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0 <= hours
    return later <= earlier + func.make_interval(0, 0, 0, 0, 0, 0, hours * 3600.0)


def next_calls(session: Session, start, end, seen_before: datetime | None = None):
    """Each identifiable call in range with the same number's next call (within range + window,
    and before ``seen_before`` if given)."""
    rules = load_rules()
    horizon = end + timedelta(hours=rules.repeat_window_hours)
    if seen_before is not None:
        horizon = min(horizon, seen_before)
    order = (Call.started_at, Call.sid)
    nxt = (select(Call.sid.label("sid"), Call.started_at.label("at"),
                  func.lead(Call.started_at).over(partition_by=Call.from_number, order_by=order).label("next_at"),
                  func.lead(Call.sid).over(partition_by=Call.from_number, order_by=order).label("next_sid"))
           .where(Call.started_at >= start, Call.started_at < horizon,
                  func.lower(Call.from_number).not_in(sorted(rules.ignore_numbers)))
           .subquery())
    repeat = and_(nxt.c.next_at.is_not(None), _within(session, nxt.c.at, nxt.c.next_at, rules.repeat_window_hours))
    return nxt, repeat


def last_bridged():
    later = aliased(Leg)
    return and_(Leg.bridged.is_(True), ~exists().where(later.call_sid == Leg.call_sid, later.bridged.is_(True),
                                                       later.seq > Leg.seq))


def _fcr_cells(session: Session, start, end, seen_before: datetime | None = None) -> list[tuple]:
    """Per (agent, mix cell): handled first contacts charged to the agent, and repeats among them."""
    nxt, repeat = next_calls(session, start, end, seen_before)
    mix = [_mix_exprs()[m] for m in MIX_COLUMNS if m != "channel"]   # FCR is no survey answer: channel ""
    q = (select(Leg.agent_id, *mix, func.count(), func.sum(case((repeat, 1), else_=0)))
         .join(nxt, nxt.c.sid == Leg.call_sid).join(QueueEntry, QueueEntry.id == Leg.entry_id)
         .where(nxt.c.at >= start, nxt.c.at < end, last_bridged()).group_by(Leg.agent_id, *mix))
    width = len(mix)
    return [(r[0], (*r[1:1 + width], ""), int(r[1 + width]), int(r[2 + width] or 0)) for r in session.execute(q)]
