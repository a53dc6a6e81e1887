"""What confirming a finding would cost, before a supervisor confirms it (issue 19: "confirming
moves Carla from bronze ×0.5 to none ×0"). The same statistics as the dashboard and payroll,
with the one flag priced as if confirmed; nothing is written."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from scoring.payroll.periods import period_bounds, period_key_for
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.rollup import rolled_tally
from scoring.scorecards.statistics import AgentScorecard, scorecards_from
from store.flags import Flag


@dataclass(frozen=True)
class ConfirmPreview:
    """An agent's pay in the flag's period as it stands and with the flag confirmed."""

    flag_id: int
    agent_id: str
    period: str
    before_tier: str
    before_multiplier: float
    before_composite: float
    after_tier: str
    after_multiplier: float
    after_composite: float
    covered_calls: float
    """Calls the agent's confirmed findings would cover (what the penalty is priced on)."""

    @property
    def changes_pay(self) -> bool:
        return self.after_multiplier != self.before_multiplier


def preview_confirm(session: Session, flag_id: int, config: ScoringConfig | None = None) -> ConfirmPreview | None:
    """The flag's agent's tier, multiplier and composite in the pay period the flagged call (or
    finding) falls in, before and after confirming the flag; None if there is no such flag or
    the agent has no calls in that period. A flag already confirmed shows no change; a kind
    that is not penalised (``penalised_flags``, e.g. repeat-calls) neither."""
    cfg = config or load_config()
    flag = session.get(Flag, flag_id)
    if flag is None:
        return None
    key = period_key_for(flag.occurred_at, cfg)
    start, end = period_bounds(key, cfg)
    tally = rolled_tally(session, start, end, cfg)
    before = _card(scorecards_from(session, tally, start, end, cfg), flag.agent_id)
    after = _card(scorecards_from(session, tally, start, end, cfg, assume_confirmed=(flag.id,)), flag.agent_id)
    if before is None or after is None:
        return None
    return ConfirmPreview(flag.id, flag.agent_id, key, before.pay_tier, before.multiplier, before.composite.score,
                          after.pay_tier, after.multiplier, after.composite.score, after.covered_calls)


def _card(cards: list[AgentScorecard], agent_id: str) -> AgentScorecard | None:
    return next((c for c in cards if c.agent_id == agent_id), None)
