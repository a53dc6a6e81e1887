"""Rules that turn outcomes into reviewable flags, and storing them so re-runs keep reviews.

Leg rules (truncated, cap-cut) judge one call each: evidence, not review items. Agent rules
(cap-cliff here; survey-dodging here and early-hangup, repeat-calls, transfer-out in
``scoring.outcomes.findings``, all four through ``scoring.outcomes.peers``) judge an agent's calendar month (UTC) against the smooth
talk-time density or against peers on the same queues; many agents are tested at once, so
significance is controlled with Benjamini-Hochberg at the configured false discovery rate.
Those findings are what a supervisor reviews.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from scoring.outcomes.classify import LegOutcome, classify_legs, started_between
from scoring.outcomes.peers import PeerTest, Tally, bh_q_values, outliers, peer_tests
from scoring.outcomes.rules import Rules
from scoring.stats.cliff import DEFAULT_SPAN, CliffResult, detect_cliff
from store.base import utcnow
from store.calls import Call, Leg
from store.flags import Flag

LEG_KINDS = ("truncated", "cap-cut")
AGENT_KINDS = ("cap-cliff", "survey-dodging", "early-hangup", "repeat-calls", "transfer-out")
RETIRED_LEG_KINDS = ("repeat-call",)
"""Kinds no rule raises any more (rules 2026-12-r1: a repeat call lowers FCR, the agent-level
``repeat-calls`` finding replaced one flag per call). Recompute treats their stored flags like
any finding the rules no longer raise: deleted if unreviewed, kept (not current) if reviewed."""


@dataclass(frozen=True)
class FlagSpec:
    """A flag as a rule raises it, before it meets the stored (maybe reviewed) row."""

    key: str
    kind: str
    agent_id: str
    occurred_at: datetime
    reason: str
    evidence: dict
    leg_id: int | None = None
    call_sid: str | None = None
    period_end: datetime | None = None


def leg_flags(outcomes: list[LegOutcome], rules: Rules) -> list[FlagSpec]:
    out = []
    for o in outcomes:
        base = {"agent_id": o.agent_id, "occurred_at": o.started_at, "leg_id": o.leg_id, "call_sid": o.call_sid}
        if o.truncated:
            t = o.threshold
            evidence = {"talk_seconds": o.talk_seconds, "ended_by": "agent", "threshold_seconds": t.seconds,
                        "threshold_source": t.source, "threshold_calls": t.calls, "adequate": o.adequate}
            reason = f"agent ended the call after {o.talk_seconds} s, under the {t.seconds} s short-call threshold"
            out.append(FlagSpec(f"truncated:leg:{o.leg_id}", "truncated", reason=reason, evidence=evidence, **base))
        if o.cap_cut:
            out.append(FlagSpec(
                f"cap-cut:leg:{o.leg_id}", "cap-cut",
                reason=f"agent ended the call at {o.talk_seconds} s, just under the {rules.cap_seconds} s cap",
                evidence={"talk_seconds": o.talk_seconds, "cap_seconds": rules.cap_seconds,
                          "window_seconds": rules.cap_window_seconds}, **base))
    return out


def months(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Calendar months (UTC) overlapping [start, end): the periods agent rules judge."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    cursor = datetime(start.year, start.month, 1, tzinfo=timezone.utc)
    out = []
    while cursor < end:
        nxt = datetime(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1, tzinfo=timezone.utc)
        out.append((cursor, nxt))
        cursor = nxt
    return out


def cap_talk_times(session: Session, start: datetime, end: datetime, rules: Rules) -> dict[str, list[int]]:
    """Talk times of agent-ended legs near the cap, per agent (only the range the test reads)."""
    low = rules.cap_seconds - rules.cap_window_seconds - DEFAULT_SPAN
    rows = session.execute(
        select(Leg.agent_id, Leg.talk_seconds).join(Call, Call.sid == Leg.call_sid)
        .where(started_between(start, end), Leg.bridged.is_(True), Leg.ended_by == "agent",
               Leg.talk_seconds >= low, Leg.talk_seconds < rules.cap_seconds + DEFAULT_SPAN)
    ).all()
    out: dict[str, list[int]] = defaultdict(list)
    for agent_id, talk in rows:
        out[agent_id].append(talk)
    return out


def _cliff(talk, rules: Rules) -> CliffResult:
    return detect_cliff(talk, rules.cap_seconds, window=rules.cap_window_seconds, min_calls=rules.cliff_min_calls,
                        alpha=rules.cliff_alpha)


def centre_cliff(session: Session, start: datetime, end: datetime, rules: Rules) -> CliffResult:
    """The cap-cliff test over every agent-ended call of the centre in [start, end)."""
    talk = [t for times in cap_talk_times(session, start, end, rules).values() for t in times]
    return _cliff(talk, rules)


def period_key(kind: str, agent_id: str, period: tuple[datetime, datetime]) -> str:
    return f"{kind}:agent:{agent_id}:{period[0]:%Y-%m}"


def period_outcomes(session: Session, period: tuple[datetime, datetime], rules: Rules,
                    outcomes: list[LegOutcome] | None) -> list[LegOutcome]:
    """The period's leg outcomes, classified here unless the caller (a recompute) already did."""
    return classify_legs(session, *period, rules) if outcomes is None else outcomes


def cliff_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    tested = {a: _cliff(t, rules) for a, t in cap_talk_times(session, *period, rules).items()}
    tested = {a: r for a, r in tested.items() if not r.insufficient}
    agents = sorted(tested)
    q_values = bh_q_values([tested[a].p_value for a in agents])
    reject = [q <= rules.cliff_alpha for q in q_values]   # Benjamini-Hochberg at the false discovery rate
    cut: dict[str, list[int]] = defaultdict(list)
    if any(reject):
        for o in period_outcomes(session, period, rules, outcomes):
            if o.cap_cut:
                cut[o.agent_id].append(o.leg_id)
    out = []
    for agent_id, hit, q in zip(agents, reject, q_values):
        r = tested[agent_id]
        if not hit or r.observed <= r.expected:
            continue
        out.append(FlagSpec(
            period_key("cap-cliff", agent_id, period), "cap-cliff", agent_id, period[0],
            reason=(f"{r.observed} agent-ended calls in the {rules.cap_window_seconds} s before the "
                    f"{rules.cap_seconds} s cap where the smooth density predicts {r.expected:.1f}"),
            evidence={"observed": r.observed, "expected": round(r.expected, 2), "excess_ratio": round(r.excess_ratio, 2),
                      "z": round(r.z, 2), "p_value": r.p_value, "q_value": q, "calls_near": r.calls_near,
                      "agents_tested": len(agents), "fdr": rules.cliff_alpha,
                      "test": "Poisson fit of the density around the cap, one-sided negative binomial, "
                              "Benjamini-Hochberg", "leg_ids": cut[agent_id]},
            period_end=period[1]))
    return out


def peer_flags(kind: str, period: tuple[datetime, datetime], outcomes: list[LegOutcome],
               hit: Callable[[LegOutcome], bool], *, min_legs: int, alpha: float, min_excess: float,
               reason: Callable[[PeerTest], str], evidence: Callable[[PeerTest], dict] = lambda r: {}
               ) -> list[FlagSpec]:
    """Agents whose share of answered calls with ``hit`` stands out from peers on the same
    queues (indirect standardisation, one-sided test, Benjamini-Hochberg): one finding each,
    with the test's numbers, ``evidence(r)`` and the calls behind it."""
    tally = Tally()
    for o in outcomes:
        if o.outcome == "handled":
            tally.add(o.agent_id, o.queue, o.leg_id, hit(o))
    tests = peer_tests(tally.rows(), min_legs=min_legs, alpha=alpha)
    return [FlagSpec(period_key(kind, r.agent_id, period), kind, r.agent_id, period[0], reason=reason(r),
                     evidence={**r.evidence(alpha, len(tests), min_legs, min_excess), **evidence(r),
                               "leg_ids": tally.leg_ids(r)},
                     period_end=period[1])
            for r in outliers(tests, min_excess)]


def dodging_flags(session: Session, period: tuple[datetime, datetime], rules: Rules,
                  outcomes: list[LegOutcome] | None = None) -> list[FlagSpec]:
    """Agents whose bridged legs end by caller hang-up (no survey) far more often than peers'
    on the same queues: observed vs the indirectly standardised peer expectation."""
    return peer_flags(
        "survey-dodging", period, period_outcomes(session, period, rules, outcomes), lambda o: o.ended_by == "caller",
        min_legs=rules.dodging_min_legs, alpha=rules.dodging_alpha, min_excess=rules.dodging_min_excess,
        reason=lambda r: (f"{r.share:.0%} of {r.legs} answered calls ended by the caller (no survey) where peers on "
                          f"the same queues would give {r.expected_share:.0%}"),
        evidence=lambda r: {"caller_ended": r.observed})


def store_flags(session: Session, specs: list[FlagSpec], kinds: tuple[str, ...], start: datetime, end: datetime,
                rule_version: str) -> dict[str, int]:
    """Make the stored flags of ``kinds`` occurring in [start, end) match ``specs``.

    New findings are inserted; existing ones get the new evidence and rule version but keep
    their review; findings no longer raised are deleted if unreviewed, else kept as not current.
    """
    existing = {f.key: f for f in session.scalars(
        select(Flag).where(Flag.kind.in_(kinds), Flag.occurred_at >= start, Flag.occurred_at < end))}
    elsewhere = [s.key for s in specs if s.key not in existing]  # e.g. a call's time moved out of range
    found = {}
    for i in range(0, len(elsewhere), 500):
        found.update((f.key, f) for f in session.scalars(select(Flag).where(Flag.key.in_(elsewhere[i:i + 500]))))
    now, counts = utcnow(), {"created": 0, "updated": 0, "retired": 0, "deleted": 0}
    for spec in specs:
        flag = existing.pop(spec.key, None) or found.get(spec.key)
        if flag is None:
            session.add(Flag(key=spec.key, kind=spec.kind, leg_id=spec.leg_id, call_sid=spec.call_sid,
                             agent_id=spec.agent_id, occurred_at=spec.occurred_at, period_end=spec.period_end,
                             reason=spec.reason, evidence=spec.evidence, rule_version=rule_version, current=True,
                             state="open", created_at=now, updated_at=now))
            counts["created"] += 1
            continue
        flag.reason, flag.evidence, flag.rule_version, flag.current = spec.reason, spec.evidence, rule_version, True
        flag.occurred_at, flag.period_end, flag.updated_at = spec.occurred_at, spec.period_end, now
        counts["updated"] += 1
    stale_open = [f.id for f in existing.values() if f.state == "open"]
    if stale_open:
        session.execute(delete(Flag).where(Flag.id.in_(stale_open)))
        counts["deleted"] = len(stale_open)
    for f in existing.values():
        if f.state != "open" and f.current:
            f.current, f.updated_at = False, now
            counts["retired"] += 1
    session.flush()
    return counts


def confirmed_flag_counts(session: Session, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """Confirmed flags per agent and kind, by when the flagged call (or period) started.

    Only supervisor-confirmed flags count: open ones are unproven, dismissed ones never count.
    A confirmed flag later rules no longer raise still counts: the review is a human judgment.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for agent_id, kind, n in session.execute(
        select(Flag.agent_id, Flag.kind, func.count())
        .where(Flag.state == "confirmed", Flag.occurred_at >= start, Flag.occurred_at < end)
        .group_by(Flag.agent_id, Flag.kind)
    ):
        out[agent_id][kind] = n
    return dict(out)


def confirmed_covered_calls(session: Session, start: datetime, end: datetime,
                            kinds: tuple[str, ...]) -> dict[str, float]:
    """Calls covered by confirmed findings of ``kinds`` per agent, by when the flagged call (or
    period) started: what a confirmed finding costs in the composite (pay rule 2026-12-p2).

    A leg flag covers its call; an agent finding the calls it found beyond the peer expectation
    (``observed - expected`` of its evidence), since that many callers met the behaviour and
    the rest would have happened anyway. A leg flag inside a confirmed agent finding's calls is
    not counted twice."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    confirmed = Flag.state == "confirmed"
    rows = session.execute(
        select(Flag.agent_id, Flag.kind, Flag.leg_id, Flag.evidence)
        .where(confirmed, Flag.kind.in_(kinds), Flag.occurred_at >= start, Flag.occurred_at < end)).all()
    covered: dict[str, float] = defaultdict(float)
    inside: dict[str, set[int]] = defaultdict(set)
    for agent_id, kind, _leg_id, evidence in rows:
        if kind not in LEG_KINDS:
            evidence = evidence or {}
            found = float(evidence.get("observed", 0)) - float(evidence.get("expected", 0))
            covered[agent_id] += max(0.0, found) if "expected" in evidence else len(evidence.get("leg_ids", []))
            inside[agent_id].update(evidence.get("leg_ids", []))
    for agent_id, kind, leg_id, _evidence in rows:
        if kind in LEG_KINDS and (leg_id is None or leg_id not in inside[agent_id]):
            covered[agent_id] += 1.0
    return dict(covered)
