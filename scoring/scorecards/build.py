"""Scorecards of a time range: the counts from the daily rollup (dashboard) or from the rows
(payroll), then the same statistics on them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scoring.scorecards.carried import carried_evidence
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.rollup import rolled_tally
from scoring.scorecards.statistics import AgentScorecard, scorecards_from
from scoring.scorecards.tally import live_tally


def build_scorecards(session: Session, start: datetime, end: datetime, *, team: str | None = None,
                     config: ScoringConfig | None = None, rollup: bool = False,
                     carried: dict[str, tuple[float, float, float]] | None = None) -> list[AgentScorecard]:
    """Scorecards of every agent with a leg in [start, end), best rank first.

    Case mix and shrinkage priors always use the whole centre, so an agent's numbers are the
    same in a team view and in the payroll export; `team` only filters (and ranks within).
    ``rollup=True`` (the dashboard) takes the counts of closed days from the daily rollup
    (``scoring.scorecards.rollup``), the same numbers at a fraction of the cost; payroll reads the rows.
    The agents' earlier periods (``carried_evidence``) are read the same way, unless ``carried``
    gives them (a caller building the same period twice reads them once).
    """
    cfg = config or load_config()
    if rollup:
        tally = rolled_tally(session, start, end, cfg)
    else:
        tally = live_tally(session, start, end, cfg)
    if carried is None:
        carried = carried_evidence(session, start, cfg, rollup=rollup)
    return scorecards_from(session, tally, start, end, cfg, team, carried=carried)
