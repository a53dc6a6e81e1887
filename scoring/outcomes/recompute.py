"""Re-evaluate every outcome rule over stored history (a background job).

Leg rules run in batches of calls so progress is visible and memory stays flat on large
histories; thresholds derived from the data are computed once over the whole range first,
so a batch boundary never changes a verdict. Agent rules run per calendar month on the same
leg verdicts (the same thresholds), so an early-hang-up finding lists exactly the agent's
truncated legs. Stored flags of retired kinds are reconciled like any other finding the rules
no longer raise. Each batch commits on its own: a crashed run resumes idempotently by running again.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from scoring.outcomes.classify import classify_legs, truncation_thresholds
from scoring.outcomes.findings import early_hangup_flags, repeat_calls_flags, transfer_out_flags
from scoring.outcomes.flags import (AGENT_KINDS, LEG_KINDS, RETIRED_LEG_KINDS, cliff_flags, dodging_flags, leg_flags,
                                    months, store_flags)
from scoring.outcomes.rules import load_rules
from store.calls import Call
from store.jobs import job

BATCH_CALLS = 5000


def _parse(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError(f"{value!r}: give a timezone, e.g. 2026-11-01T00:00:00+00:00")
    return when


def _batches(s, start: datetime, end: datetime, size: int) -> list[tuple[datetime, datetime]]:
    """Time slices holding about ``size`` calls each, cut at every size-th call start (in SQL)."""
    numbered = (select(Call.started_at, func.row_number().over(order_by=Call.started_at).label("n"))
                .where(Call.started_at >= start, Call.started_at < end).subquery())
    cuts = s.scalars(select(numbered.c.started_at).where(numbered.c.n % size == 1, numbered.c.n > 1)
                     .order_by(numbered.c.started_at)).all()
    bounds = [start, *cuts, end]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if a < b]


@job("scoring.recompute.recompute", coalesce=True)
def recompute(ctx, start=None, end=None, rules_file: str | None = None, batch_calls: int = BATCH_CALLS) -> dict:
    """Job: classify calls started in [start, end) (default: all history) and store the flags."""
    rules = load_rules(rules_file)
    start, end = _parse(start), _parse(end)
    with ctx.db.session() as s:
        first, last = s.execute(select(func.min(Call.started_at), func.max(Call.started_at))).one()
    if first is None:
        ctx.progress(1.0, "no calls")
        return {"calls": 0}
    start = start or first
    end = end or last + timedelta(seconds=1)
    totals = {"created": 0, "updated": 0, "retired": 0, "deleted": 0}
    with ctx.db.session() as s:
        thresholds = truncation_thresholds(s, start, end, rules)
        batches = _batches(s, start, end, batch_calls)
    periods = months(start, end)
    steps = len(batches) + len(periods)
    for i, (a, b) in enumerate(batches):
        with ctx.db.session() as s:
            specs = leg_flags(classify_legs(s, a, b, rules, thresholds), rules)
            for k, v in store_flags(s, specs, LEG_KINDS + RETIRED_LEG_KINDS, a, b, rules.version).items():
                totals[k] += v
        ctx.progress((i + 1) / steps, f"calls up to {b.isoformat()}")
    for j, period in enumerate(periods):
        with ctx.db.session() as s:
            outcomes = classify_legs(s, *period, rules, thresholds)
            specs = [spec for rule in (cliff_flags, dodging_flags, early_hangup_flags, repeat_calls_flags,
                                                        transfer_out_flags)
                     for spec in rule(s, period, rules, outcomes)]
            for k, v in store_flags(s, specs, AGENT_KINDS, *period, rules.version).items():
                totals[k] += v
        ctx.progress((len(batches) + j + 1) / steps, f"agent rules for {period[0]:%Y-%m}")
    return {"start": start.astimezone(timezone.utc).isoformat(), "end": end.astimezone(timezone.utc).isoformat(),
            "rule_version": rules.version, **totals}
