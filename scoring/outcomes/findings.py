"""Agent findings per month from leg verdicts, against peers on the same queues.

``early-hangup``: one call the agent ended under the short-talk threshold proves nothing
(callers do get their answer in a minute sometimes); an agent who does it to many more
callers than peers on the same queues is hanging up on them. ``repeat-calls``: one repeat
call lowers first-contact resolution in the score; an agent whose callers call back far more
often than peers' is worth a supervisor listening in. Both use ``scoring.outcomes.peers`` (indirect
standardisation, one-sided exact binomial, Benjamini–Hochberg, minimum legs and excess).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scoring.outcomes.classify import LegOutcome
from scoring.outcomes.flags import FlagSpec, period_key, period_outcomes
from scoring.outcomes.peers import Tally, outliers, peer_tests
from scoring.outcomes.rules import Rules


def early_hangup_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                       outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    """Agents who end far more of their answered calls under the short-talk threshold than peers."""
    tally, thresholds = Tally(), {}
    for o in period_outcomes(session, period, rules, outcomes):
        if o.outcome == "handled":
            tally.add(o.agent_id, o.queue, o.leg_id, o.truncated)
            thresholds[o.queue] = o.threshold.seconds
    tests = peer_tests(tally.rows(), min_legs=rules.early_min_legs, alpha=rules.early_alpha)
    out = []
    for r in outliers(tests, rules.early_min_excess):
        out.append(FlagSpec(
            period_key("early-hangup", r.agent_id, period), "early-hangup", r.agent_id, period[0],
            reason=(f"ended {r.observed} of {r.legs} answered calls ({r.share:.0%}) under the short-call threshold "
                    f"where peers on the same queues would give {r.expected_share:.0%} ({r.expected:.1f} calls)"),
            evidence={**r.evidence(rules.early_alpha, len(tests), rules.early_min_legs, rules.early_min_excess),
                      "threshold_seconds": {q: thresholds[q] for q in sorted(r.by_queue)},
                      "leg_ids": tally.leg_ids(r)},
            period_end=period[1]))
    return out


def repeat_calls_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                       outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    """Agents whose answered calls are followed by a repeat call far more often than peers'."""
    tally = Tally()
    for o in period_outcomes(session, period, rules, outcomes):
        if o.outcome == "handled":
            tally.add(o.agent_id, o.queue, o.leg_id, o.repeat_call_sid is not None)
    tests = peer_tests(tally.rows(), min_legs=rules.repeat_min_legs, alpha=rules.repeat_alpha)
    out = []
    for r in outliers(tests, rules.repeat_min_excess):
        out.append(FlagSpec(
            period_key("repeat-calls", r.agent_id, period), "repeat-calls", r.agent_id, period[0],
            reason=(f"{r.share:.0%} of {r.legs} answered calls were followed by a repeat call within "
                    f"{rules.repeat_window_hours:g} h where peers on the same queues would give {r.expected_share:.0%}"),
            evidence={**r.evidence(rules.repeat_alpha, len(tests), rules.repeat_min_legs, rules.repeat_min_excess),
                      "window_hours": rules.repeat_window_hours, "leg_ids": tally.leg_ids(r)},
            period_end=period[1]))
    return out
