"""What confirming a finding would do to the agent's pay, shown before anyone confirms it.

The agent's card is built twice for the pay period the flag counts in (by when it occurred,
as the scorecards count confirmed flags): as things stand, and with the flag confirmed inside
a savepoint that is rolled back. Both are the scorecard builder's own cards, so the preview
follows whatever pay rule the builder implements and equals what confirming then does. The
dashboard's queue, the finding's page, ``flask flags cost`` and ``flask flags list --cost`` all call
``confirm_costs``, which builds the cards as they stand once per period for a whole page.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.payroll.periods import period_bounds, period_key_for
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.carried import carried_evidence
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.statistics import AgentScorecard
from store.flags import Flag
from store.payroll import PayPeriod


@dataclass(frozen=True)
class Pay:
    """The pay-relevant part of a card."""
    tier: str
    multiplier: float
    composite: float | None
    insufficient: bool

    @classmethod
    def of(cls, card: AgentScorecard | None) -> "Pay | None":
        if card is None:
            return None
        score = card.composite.score
        return cls(card.pay_tier, card.multiplier, None if score is None else round(float(score), 1), card.insufficient)


@dataclass(frozen=True)
class ConfirmCost:
    flag_id: int
    agent_id: str
    agent_name: str
    period: str                 # the pay period the confirmed flag counts in
    locked: bool                # locked: the difference is paid as an adjustment in the next open period
    already_confirmed: bool     # nothing to preview: ``before`` and ``after`` are the card as it is
    before: Pay | None          # None: the agent has no card in the period
    after: Pay | None

    @property
    def moves_pay(self) -> bool:
        return self.before is not None and self.after is not None and \
            (self.before.tier, self.before.multiplier) != (self.after.tier, self.after.multiplier)

    @property
    def sentence(self) -> str:
        """In English (the CLI, the JSON); the dashboard says it from the fields."""
        if self.before is None or self.after is None:
            return f"{self.agent_name} has no scorecard in {self.period}: confirming changes no pay"
        b, a = self.before, self.after
        if self.already_confirmed:
            text = f"confirmed: {self.agent_name} is at {b.tier} ×{b.multiplier:.2f}"
        elif self.moves_pay:
            text = f"confirming moves {self.agent_name} from {b.tier} ×{b.multiplier:.2f} to {a.tier} ×{a.multiplier:.2f}"
        else:
            text = f"confirming leaves {self.agent_name} at {b.tier} ×{b.multiplier:.2f}"
        if not self.already_confirmed and b.composite is not None and a.composite is not None:
            text += f" (composite {b.composite:.1f} → {a.composite:.1f})"
        if self.locked:
            text += f"; {self.period} is locked, so a change is paid as an adjustment in the next open period"
        return text

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(moves_pay=self.moves_pay, sentence=self.sentence)
        return data


def _cards(session: Session, start: datetime, end: datetime, cfg: ScoringConfig, rollup: bool,
           carried: dict) -> dict[str, AgentScorecard]:
    return {c.agent_id: c for c in build_scorecards(session, start, end, config=cfg, rollup=rollup, carried=carried)}


def confirm_costs(session: Session, flag_ids: list[int], *, config: ScoringConfig | None = None,
                  rollup: bool = False) -> dict[int, ConfirmCost]:
    """The agent's pay now and with each flag confirmed, by flag id (a missing flag is left
    out). Nothing is stored. The earlier periods carried and the cards as they stand are read
    once per pay period for all the flags (a queue page holds many of one month); each flag not
    yet confirmed costs one more build. ``rollup`` as in ``build_scorecards``: the dashboard
    reads the daily rollup, payroll and the CLI count the rows (the same figures)."""
    cfg = config or load_config()
    periods: dict[str, tuple[dict, dict[str, AgentScorecard]]] = {}
    out = {}
    for flag_id in flag_ids:
        flag = session.get(Flag, flag_id)
        if flag is None:
            continue
        key = period_key_for(flag.occurred_at, cfg)
        start, end = period_bounds(key, cfg)
        if key not in periods:
            carried = carried_evidence(session, start, cfg, rollup=rollup)   # earlier periods: no flag of this one
            periods[key] = carried, _cards(session, start, end, cfg, rollup, carried)
        carried, now = periods[key]
        locked = session.scalar(select(PayPeriod.state).where(PayPeriod.key == key)) == "locked"
        already = flag.state == "confirmed"
        before = now.get(flag.agent_id)
        after = before if already else _confirmed(session, flag, start, end, cfg, rollup, carried)
        name = (before.name if before is not None else None) or flag.agent_id
        out[flag_id] = ConfirmCost(flag_id, flag.agent_id, name, key, locked, already, Pay.of(before), Pay.of(after))
    return out


def _confirmed(session: Session, flag: Flag, start: datetime, end: datetime, cfg: ScoringConfig,
               rollup: bool, carried: dict) -> AgentScorecard | None:
    """The agent's card with ``flag`` confirmed, inside a savepoint that is rolled back."""
    savepoint = session.begin_nested()
    try:
        flag.state = "confirmed"
        session.flush()
        return _cards(session, start, end, cfg, rollup, carried).get(flag.agent_id)
    finally:
        savepoint.rollback()
        session.refresh(flag)


def confirm_cost(session: Session, flag_id: int, *, config: ScoringConfig | None = None,
                 rollup: bool = False) -> ConfirmCost | None:
    """One flag's ``confirm_costs`` (None: no such flag)."""
    return confirm_costs(session, [flag_id], config=config, rollup=rollup).get(flag_id)
