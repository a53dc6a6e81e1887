"""The evidence an agent carries from its own earlier periods (pay rule 2026-12-p3, "carried").

An agent with few answers in a period (a part-timer, a new hire, back from a long holiday) is
shrunk toward the lowest paying level (probation) unless it has shown more before: then toward
what its last ``carry_periods`` periods support at the cautious bound
(``statistics.carried_centres``). The earlier periods' counts come from the same place as the
period's own: the daily rollup for the dashboard, the rows for payroll; one tally per period
for the whole centre, never a query per agent.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy.orm import Session

from scoring.outcomes.flags import confirmed_flag_counts
from scoring.scorecards.config import ScoringConfig
from scoring.scorecards.rollup import rolled_tally
from scoring.scorecards.statistics import carried_centres
from scoring.scorecards.tally import live_tally


def earlier_periods(start: datetime, cfg: ScoringConfig) -> list[tuple[datetime, datetime]]:
    """The ``carry_periods`` pay periods before the one holding ``start``, most recent first,
    as [start, end) in UTC (local midnights of the centre's time zone)."""
    local = start.astimezone(cfg.tz).date()
    if cfg.period == "monthly":
        first = date(local.year, local.month, 1)
        starts = []
        for _ in range(cfg.carry_periods + 1):
            starts.append(first)
            first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    else:
        monday = date.fromordinal(local.toordinal() - local.weekday())
        starts = [date.fromordinal(monday.toordinal() - 7 * k) for k in range(cfg.carry_periods + 1)]
    utc = [datetime(d.year, d.month, d.day, tzinfo=cfg.tz).astimezone(timezone.utc) for d in starts]
    return [(utc[k + 1], utc[k]) for k in range(cfg.carry_periods)]


def carried_evidence(session: Session, start: datetime, cfg: ScoringConfig, *,
                     rollup: bool = False) -> dict[str, tuple[float, float, float]]:
    """Per agent, the adequacy, CSAT and FCR its earlier periods support at the cautious bound;
    a period where the agent had a confirmed penalised finding is not carried."""
    months = []
    for s, e in earlier_periods(start, cfg):
        tally = rolled_tally(session, s, e, cfg) if rollup else live_tally(session, s, e, cfg)
        barred = {agent for agent, kinds in confirmed_flag_counts(session, s, e).items()
                  if any(n and kind in cfg.penalised_flags for kind, n in kinds.items())}
        months.append((tally, barred))
    return carried_centres(months, cfg)
