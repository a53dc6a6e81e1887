"""What would change an agent's tier, said in survey answers: the same estimator run again on
the agent's counts with k more "yes" (or "no") answers, everything else as it is.

Shrinkage, case mix and the priors move with every answer, so the count is found by running
``scorecards_from`` itself (a bisection over k), not by a formula that would drift from what
payroll pays. It is a guide, not a promise: the estimates' intervals say how far the numbers
can still move, and other agents' answers move the priors too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from scoring.scorecards.carried import carried_evidence
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.rollup import rolled_tally
from scoring.scorecards.statistics import AgentScorecard, scorecards_from
from scoring.scorecards.tally import COUNTS, Tally

MAX_ANSWERS = 400
"""Beyond this many answers the outlook says "more than": a month's worth for a busy agent."""
_ADD = {name: COUNTS.index(name) for name in ("handled", "offered", "completed", "adequate_n", "adequate_yes",
                                             "legs", "incall_completed")}


@dataclass(frozen=True)
class Outlook:
    card: AgentScorecard
    answers_to_tier: int | None      # survey answers still missing before any tier (insufficient data)
    next_tier: str | None            # the tier above, if any
    yes_to_next: int | None          # "yes" answers that would reach it (None: more than MAX_ANSWERS)
    keep_tier: str | None            # the tier held now
    no_to_drop: int | None           # "no" answers that would lose it (None: more than MAX_ANSWERS, or no tier)


def _with_answers(tally: Tally, agent_id: str, k: int, yes: bool) -> Tally:
    """The counts with ``k`` more answered calls of the agent, in the agent's busiest mix cell."""
    cells = {key: list(v) for key, v in tally.cells.items()}
    mine = [key for key in cells if key[0] == agent_id]
    cell = cells[max(mine, key=lambda key: (cells[key][_ADD["adequate_n"]], str(key)))]
    for name, at in _ADD.items():
        if name != "adequate_yes" or yes:
            cell[at] += k
    return Tally(cells=cells, shift_days=dict(tally.shift_days))


def _least(reaches, limit: int) -> int | None:
    """Smallest k in 1..limit with ``reaches(k)``, assuming it stays true once true; None if none."""
    if not reaches(limit):
        return None
    low, high = 1, limit
    while low < high:
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid + 1
    return low


def tier_outlook(session: Session, agent_id: str, start: datetime, end: datetime,
                 config: ScoringConfig | None = None) -> Outlook | None:
    """The agent's scorecard of [start, end) (the dashboard's counts) and how far the next tier
    and the drop to the one below are; None when the agent has no calls in the range."""
    cfg = config or load_config()
    tally = rolled_tally(session, start, end, cfg)
    if not any(key[0] == agent_id for key in tally.cells):
        return None

    carried = carried_evidence(session, start, cfg, rollup=True)

    def card_of(t: Tally) -> AgentScorecard:
        return next(c for c in scorecards_from(session, t, start, end, cfg, carried=carried) if c.agent_id == agent_id)

    card = card_of(tally)
    if card.insufficient:
        return Outlook(card, max(cfg.min_responses - card.surveys_completed, 1), None, None, None, None)
    names = [t.name for t in cfg.tiers.tiers]
    at = names.index(card.tier)
    above = names[at + 1] if at + 1 < len(names) else None
    below_ok = at > 0
    yes = _least(lambda k: names.index(card_of(_with_answers(tally, agent_id, k, True)).tier) > at,
                 MAX_ANSWERS) if above else None
    no = _least(lambda k: names.index(card_of(_with_answers(tally, agent_id, k, False)).tier) < at,
                MAX_ANSWERS) if below_ok else None
    return Outlook(card, None, above, yes, card.tier if below_ok else None, no)
