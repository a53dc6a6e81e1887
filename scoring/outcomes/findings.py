"""Agent findings per month from leg verdicts, against peers on the same queues.

``early-hangup``: one call the agent ended under the short-talk threshold proves nothing
(callers do get their answer in a minute sometimes); an agent who does it to many more
callers than peers on the same queues is hanging up on them. ``repeat-calls``: one repeat
call lowers first-contact resolution in the score; an agent whose callers call back far more
often than peers' is worth a supervisor listening in. ``transfer-out``: a transfer to
another queue is often right (a billing question on the tech line), but an agent paid on
what callers answer learns to pass the hard calls on before the survey; the share of
answered calls an agent transfers is compared with peers on the same queues, so a queue
whose callers often need another (the general line) is no verdict. All three use
``scoring.outcomes.peers`` (indirect standardisation, one-sided exact binomial,
Benjamini–Hochberg, minimum legs and excess).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scoring.outcomes.classify import LegOutcome
from scoring.outcomes.flags import FlagSpec, peer_flags, period_outcomes
from scoring.outcomes.rules import Rules


def early_hangup_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                       outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    """Agents who end far more of their answered calls under the short-talk threshold than peers."""
    outcomes = period_outcomes(session, period, rules, outcomes)
    thresholds = {o.queue: o.threshold.seconds for o in outcomes if o.outcome == "handled"}
    return peer_flags(
        "early-hangup", period, outcomes, lambda o: bool(o.truncated),
        min_legs=rules.early_min_legs, alpha=rules.early_alpha, min_excess=rules.early_min_excess,
        reason=lambda r: (f"ended {r.observed} of {r.legs} answered calls ({r.share:.0%}) under the short-call "
                          f"threshold where peers on the same queues would give {r.expected_share:.0%} "
                          f"({r.expected:.1f} calls)"),
        evidence=lambda r: {"threshold_seconds": {q: thresholds[q] for q in sorted(r.by_queue)}})


def repeat_calls_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                       outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    """Agents whose answered calls are followed by a repeat call far more often than peers'."""
    return peer_flags(
        "repeat-calls", period, period_outcomes(session, period, rules, outcomes),
        lambda o: o.repeat_call_sid is not None,
        min_legs=rules.repeat_min_legs, alpha=rules.repeat_alpha, min_excess=rules.repeat_min_excess,
        reason=lambda r: (f"{r.share:.0%} of {r.legs} answered calls were followed by a repeat call within "
                          f"{rules.repeat_window_hours:g} h where peers on the same queues would give "
                          f"{r.expected_share:.0%}"),
        evidence=lambda r: {"window_hours": rules.repeat_window_hours})


def transfer_out_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                       outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    """Agents who transfer far more of their answered calls to another queue than peers on the same queues."""
    outcomes = period_outcomes(session, period, rules, outcomes)
    destinations: dict[str, dict[str, int]] = {}
    for o in outcomes:
        if o.transferred_to is not None:
            counts = destinations.setdefault(o.agent_id, {})
            counts[o.transferred_to] = counts.get(o.transferred_to, 0) + 1
    return peer_flags(
        "transfer-out", period, outcomes, lambda o: o.transferred_to is not None,
        min_legs=rules.transfer_min_legs, alpha=rules.transfer_alpha, min_excess=rules.transfer_min_excess,
        reason=lambda r: (f"transferred {r.observed} of {r.legs} answered calls ({r.share:.0%}) to another queue "
                          f"where peers on the same queues would give {r.expected_share:.0%} "
                          f"({r.expected:.1f} calls)"),
        evidence=lambda r: {"transferred_to": dict(sorted(destinations.get(r.agent_id, {}).items()))})
