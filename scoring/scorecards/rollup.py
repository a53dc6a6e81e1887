"""The daily scorecard rollup: each closed UTC day's counts (``tally.Tally``), stored once.

A month of scorecards for a large centre reads a million calls, but the counts behind them
add up over disjoint days: the dashboard sums the stored days and counts only the rest from
the rows (``rolled_tally``). A day is *closed*, and rolled up, ``GRACE`` after its end (the
longest call and Twilio's retries): nothing a live call does can change its calls, legs and
in-call answers then. Its first-contact resolution still can for 72 h (the repeat-call
window): the stored repeats are those whose repeat call started before the day was counted
(``computed_at``), and ``tally.later_repeats`` adds the ones since, from the few calls since.
Such a day is counted again every ``RECOUNT_AFTER`` until its window has passed.

Data that lands on a closed day all the same drops that day's rollup and the next refresh
counts it again:

- a survey answer that is not the call's own keypress (a follow-up's, a replayed one) and a
  follow-up sent: its call's day (``store.rollup.forget_days_of``);
- a final status callback whose ``Timestamp`` puts the call on an old day (emulated time),
  and any later webhook of a call whose Twilio time is already known (``callflow.calls``):
  its day and the days whose repeat window it reaches (``store.rollup.forget_days_touched_by``).

Rows written straight into the database (imports, ``bench.data``) need
the ``scorecards rollup --rebuild`` command. Pay is always counted from the rows: locking a period
also checks the rollup against them and drops every day of the period when they disagree.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from scoring.outcomes.rules import Rules, load_rules
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.tally import COUNTS, Tally, later_repeats, live_tally
from store.base import utcnow
from store.calls import Call
from store.jobs import job
from store.rollup import ScorecardCell, ScorecardDay

log = logging.getLogger(__name__)
GRACE = timedelta(hours=6)   # a Twilio call lasts at most 4 h (Dial timeLimit); webhook retries take minutes
RECOUNT_AFTER = timedelta(hours=1)   # a day whose repeat window is open is counted again this often
VERSION = 2                  # bump when what a cell counts changes (2: channel, the follow-up funnel)
MIX = ("queue", "language", "reason", "channel")


def rollup_key(cfg: ScoringConfig, rules: Rules) -> str:
    """Names the rules the counts depend on: a day counted under other rules is not used."""
    basis = {"version": VERSION, "yes": cfg.adequate_yes_value, "top_box": cfg.csat_top_box_min,
             "repeat_hours": rules.repeat_window_hours, "ignore": sorted(rules.ignore_numbers)}
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:32]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), timezone.utc)


def closed_before(now: datetime) -> date:
    """The first day that is not closed yet: every day before it is."""
    return (now - GRACE).astimezone(timezone.utc).date()


def settled_at(day: date, rules: Rules) -> datetime:
    """When ``day``'s first-contact resolution stops changing: its repeat window and ``GRACE`` have passed."""
    return midnight(reach_until(day, rules) + timedelta(days=1)) + GRACE


def reach_until(day: date, rules: Rules) -> date:
    """The last day on which a new call can still change ``day``'s first-contact resolution."""
    return (midnight(day + timedelta(days=1)) + timedelta(hours=rules.repeat_window_hours)
            - timedelta(microseconds=1)).date()


def days_to_roll(session: Session, key: str, now: datetime, rules: Rules) -> list[date]:
    """Closed days from the first call on that have no rollup under ``key``, and those whose
    repeat window was still open when counted, ``RECOUNT_AFTER`` ago or more."""
    first = session.scalar(select(func.min(Call.started_at)))
    if first is None:
        return []
    before = closed_before(now)
    have = {day: at for day, at in session.execute(select(ScorecardDay.day, ScorecardDay.computed_at).where(
        ScorecardDay.key == key, ScorecardDay.day < before))}
    day, out = first.astimezone(timezone.utc).date(), []
    while day < before:
        at = have.get(day)
        if at is None or (at < settled_at(day, rules) and at <= now - RECOUNT_AFTER):
            out.append(day)
        day += timedelta(days=1)
    return out


def missing_days(session: Session, now: datetime | None = None) -> list[date]:
    """Days the rollup lacks or should count again under the current rules (what ``refresh`` would roll)."""
    cfg, rules = load_config(), load_rules()
    return days_to_roll(session, rollup_key(cfg, rules), now or utcnow(), rules)


def roll_day(session: Session, day: date, cfg: ScoringConfig, rules: Rules, key: str, now: datetime) -> int:
    """Count one day from the rows as of ``now`` and store it (replacing any older rollup); returns its cells."""
    tally = live_tally(session, midnight(day), midnight(day + timedelta(days=1)), cfg, seen_before=now)
    session.execute(delete(ScorecardDay).where(ScorecardDay.day == day))
    session.add(ScorecardDay(day=day, key=key, reach_until=reach_until(day, rules), computed_at=now))
    session.flush()
    rows = [{"day": day, "agent_id": agent, **dict(zip(MIX, mix)), **dict(zip(COUNTS, counts))}
            for (agent, mix), counts in tally.cells.items()]
    if rows:
        session.execute(insert(ScorecardCell), rows)
    return len(rows)


@job("scoring.rollup.refresh")
def refresh(ctx, rebuild: bool = False, now: str | None = None) -> dict:
    """Job: roll up every closed day missing from the rollup or due a recount (all of them with
    ``rebuild``), one transaction per day, with progress. Safe to run twice or side by side
    with itself: a day is replaced whole."""
    cfg, rules = load_config(), load_rules()
    key = rollup_key(cfg, rules)
    at = datetime.fromisoformat(now) if now else utcnow()
    with ctx.db.session() as s:
        if rebuild:
            s.execute(delete(ScorecardDay))
        days = days_to_roll(s, key, at, rules)
    cells = 0
    for i, day in enumerate(days):
        with ctx.db.session() as s:
            cells += roll_day(s, day, cfg, rules, key, at)
        ctx.progress((i + 1) / len(days), f"rolled up {day.isoformat()}")
    return {"days": len(days), "cells": cells, "closed_before": closed_before(at).isoformat()}


def rolled_days(session: Session, start: datetime, end: datetime, key: str) -> dict[date, datetime]:
    """Days rolled up under ``key`` that lie wholly inside [start, end), in order, with when each was counted."""
    first = (start.astimezone(timezone.utc) + timedelta(days=1) - timedelta(microseconds=1)).date()
    return dict(session.execute(select(ScorecardDay.day, ScorecardDay.computed_at).where(
        ScorecardDay.key == key, ScorecardDay.day >= first, ScorecardDay.day < end.astimezone(timezone.utc).date())
        .order_by(ScorecardDay.day)).all())


def rolled_tally(session: Session, start: datetime, end: datetime, cfg: ScoringConfig) -> Tally:
    """The counts of [start, end): rolled-up days that lie wholly inside it, plus the rest
    (the edges, days not closed or dropped) counted from the rows. Each UTC day is in exactly
    one part, so the parts add up to ``live_tally(start, end)``."""
    return _with_rows(session, start, end, cfg, rolled_days(session, start, end, rollup_key(cfg, load_rules())))


def _with_rows(session: Session, start: datetime, end: datetime, cfg: ScoringConfig,
               rolled: dict[date, datetime]) -> Tally:
    """The stored counts of ``rolled`` days (with the repeat calls since each was counted)
    plus the rest of [start, end) counted from the rows."""
    tally, rules = _stored(session, list(rolled)), load_rules()
    cursor = start
    for day, computed_at in rolled.items():
        if cursor < midnight(day):
            tally.merge(live_tally(session, cursor, midnight(day), cfg))
        cursor = midnight(day + timedelta(days=1))
        if computed_at < settled_at(day, rules):
            tally.merge(later_repeats(session, midnight(day), cursor, computed_at))
    if cursor < end:
        tally.merge(live_tally(session, cursor, end, cfg))
    return tally


def _stored(session: Session, days: list[date]) -> Tally:
    """The stored counts of these days, summed per agent and mix cell, and the days worked."""
    tally = Tally()
    if not days:
        return tally
    C = ScorecardCell
    mix = (C.agent_id, *(getattr(C, name) for name in MIX))
    sums = select(*mix, *(func.sum(getattr(C, name)) for name in COUNTS)).where(C.day.in_(days)).group_by(*mix)
    for agent, *rest in session.execute(sums):
        tally.add(agent, tuple(rest[:len(MIX)]), rest[len(MIX):])
    worked = select(C.agent_id, func.count(func.distinct(C.day))).where(C.day.in_(days), C.handled > 0)
    tally.shift_days = {agent: int(n) for agent, n in session.execute(worked.group_by(C.agent_id))}
    return tally


def check_against_rows(session: Session, start: datetime, end: datetime, cfg: ScoringConfig, rows: Tally) -> bool:
    """Do the rollup's counts of [start, end) equal ``rows`` (``live_tally``)? When not, log
    which agents differ and drop every rolled day of the range, so the next refresh recounts."""
    days = rolled_days(session, start, end, rollup_key(cfg, load_rules()))
    if not days:
        return True
    rolled = _with_rows(session, start, end, cfg, days)
    differ = {k[0] for k in rolled.cells.keys() | rows.cells.keys() if rolled.cells.get(k) != rows.cells.get(k)}
    differ |= {a for a in rolled.shift_days.keys() | rows.shift_days.keys()
               if rolled.shift_days.get(a) != rows.shift_days.get(a)}
    if not differ:
        return True
    log.error("scorecard rollup disagrees with the rows for %s .. %s (agents %s); dropping those days",
              start.isoformat(), end.isoformat(), ", ".join(sorted(differ)[:20]))
    session.execute(delete(ScorecardDay).where(ScorecardDay.day >= start.astimezone(timezone.utc).date(),
                                               ScorecardDay.day <= end.astimezone(timezone.utc).date()))
    return False
