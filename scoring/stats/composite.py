"""Composite agent KPI, bonus tiers and ranking.

The score rewards what the caller said (adequately answered, satisfied, did not have to call
back), not how many calls the agent pushed through: calls per shift never enters it, because
rewarding volume is what teaches agents to cut callers off. Inputs are rates already shrunk
(`shrinkage`) and, where used, case-mix adjusted (`casemix`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

K = TypeVar("K", bound=Hashable)

DEFAULT_MIN_RESPONSES = 20
"""Below this many survey answers an agent gets no rank and no tier: at n = 20 the 90%
Wilson interval for 16/20 is still 0.62-0.91, the least we would hang money on."""


SCORE_DECIMALS = 6
"""The score is rounded to this many decimals so float dust (0.5*50 + 0.3*72 + 0.2*67 ->
59.99999999999999) never drops an agent below a tier threshold."""


@dataclass(frozen=True)
class CompositeWeights:
    """Weights of the rate parts (must sum to 1) and the confirmed-finding penalty.

    Adequacy (Q1) leads because it is the question about the agent's own job; CSAT (top-2-box
    of Q2) carries mood that is partly the company's; FCR is noisy and lagged (repeat-contact
    window). The penalty is `flag_penalty` points per 1 % of handled calls covered by confirmed
    findings (pay rule 2026-12-p2): at 1.0 a covered call costs what a caller who said "no" to
    everything costs (100 points spread over the handled calls), so the cost follows how many
    callers the behaviour reached, not how many flags were raised. Capped at `flag_penalty_cap`
    points, high enough to take every paying tier away.
    """

    adequacy: float = 0.5
    csat: float = 0.3
    fcr: float = 0.2
    flag_penalty: float = 1.0
    flag_penalty_cap: float = 60.0

    def __post_init__(self) -> None:
        parts = (self.adequacy, self.csat, self.fcr)
        if min(parts) < 0 or not math.isclose(sum(parts), 1.0):
            raise ValueError(f"part weights must be >= 0 and sum to 1, got {parts}")
        if self.flag_penalty < 0 or self.flag_penalty_cap < 0:
            raise ValueError("flag penalty and its cap must be >= 0")


DEFAULT_WEIGHTS = CompositeWeights()


@dataclass(frozen=True)
class Part:
    """One rate's contribution: points = 100 * weight * rate."""

    name: str
    rate: float
    weight: float
    points: float


@dataclass(frozen=True)
class CompositeBreakdown:
    score: float
    """0-100: sum of part points minus the flag penalty, floored at 0, rounded to 1e-6."""
    parts: tuple[Part, ...]
    flags_per_100: float
    """Calls covered by confirmed findings per 100 handled calls."""
    penalty: float
    responses: int
    insufficient: bool
    """True when responses < the minimum: show the breakdown, but no rank."""
    margin: float = 0.0
    """Points taken off for uncertainty (pay rule 2026-12-p2: the score the evidence supports at
    the configured confidence, so fewer answers never score more)."""


def composite(
    adequacy: float,
    csat: float,
    fcr: float,
    confirmed_flags: int,
    handled: int,
    weights: CompositeWeights = DEFAULT_WEIGHTS,
    *,
    responses: int,
    min_responses: int = DEFAULT_MIN_RESPONSES,
    margin: float = 0.0,
) -> CompositeBreakdown:
    """Composite 0-100 score with each part's contribution, for the dashboard breakdown.

    `adequacy`, `csat` (top-2-box share) and `fcr` are shrunk rates in [0, 1];
    `confirmed_flags` are the calls covered by findings a supervisor upheld (a leg flag covers
    its call, an agent finding its excess calls), over `handled` calls in the period.
    """
    rates = {"adequacy": adequacy, "csat": csat, "fcr": fcr}
    if not all(0.0 <= r <= 1.0 for r in rates.values()):
        raise ValueError(f"rates must be in [0, 1], got {rates}")
    if handled < 0 or confirmed_flags < 0 or confirmed_flags > handled or responses < 0 or margin < 0:
        raise ValueError("need 0 <= confirmed_flags <= handled, responses >= 0 and margin >= 0")
    parts = tuple(
        Part(name, rate, getattr(weights, name), 100.0 * getattr(weights, name) * rate)
        for name, rate in rates.items()
    )
    flags_per_100 = 100.0 * confirmed_flags / handled if handled else 0.0
    penalty = min(weights.flag_penalty_cap, weights.flag_penalty * flags_per_100)
    score = round(max(0.0, sum(p.points for p in parts) - penalty - margin), SCORE_DECIMALS)
    return CompositeBreakdown(score, parts, flags_per_100, penalty, responses, responses < min_responses, margin)


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: float
    """Lowest score (inclusive) that earns this tier."""
    multiplier: float
    """Bonus multiplier applied by payroll."""


@dataclass(frozen=True)
class BonusTiers:
    """Ordered score thresholds. Defaults: <60 none x0, 60 bronze x0.5, 70 silver x1,
    80 gold x1.25, 90 platinum x1.5 - ten-point steps, so a tier is a visible change in
    behaviour, not noise (a shrunk rate's interval is usually several points wide)."""

    tiers: tuple[Tier, ...] = (
        Tier("none", 0.0, 0.0),
        Tier("bronze", 60.0, 0.5),
        Tier("silver", 70.0, 1.0),
        Tier("gold", 80.0, 1.25),
        Tier("platinum", 90.0, 1.5),
    )

    def __post_init__(self) -> None:
        thresholds = [t.threshold for t in self.tiers]
        if not thresholds or thresholds[0] > 0.0:
            raise ValueError("the first tier must start at or below 0 so every score has a tier")
        if any(b <= a for a, b in zip(thresholds, thresholds[1:])):
            raise ValueError("tier thresholds must be strictly increasing")

    def tier_for(self, score: float) -> Tier:
        """Highest tier whose threshold the score reaches (thresholds are inclusive)."""
        if math.isnan(score):
            raise ValueError("score is NaN")
        return [t for t in self.tiers if score >= t.threshold][-1]


DEFAULT_TIERS = BonusTiers()


def tier_for(score: float, tiers: BonusTiers = DEFAULT_TIERS) -> Tier:
    """Tier of a score; see `BonusTiers.tier_for`. Use `bonus_tier` for an agent's breakdown."""
    return tiers.tier_for(score)


def bonus_tier(breakdown: CompositeBreakdown, tiers: BonusTiers = DEFAULT_TIERS) -> Tier | None:
    """Agent's tier, or None ("insufficient data") below the minimum number of responses."""
    return None if breakdown.insufficient else tiers.tier_for(breakdown.score)


def rank(breakdowns: Mapping[K, CompositeBreakdown]) -> dict[K, int | None]:
    """Competition ranks (1, 2, 2, 4) by score, best first; None for insufficient data."""
    scores = np.sort([b.score for b in breakdowns.values() if not b.insufficient])
    above = len(scores) - np.searchsorted(scores, [b.score for b in breakdowns.values()], side="right")
    return {agent: None if b.insufficient else 1 + int(k) for (agent, b), k in zip(breakdowns.items(), above)}


@dataclass(frozen=True)
class RankCorrelation:
    rho: float
    p_value: float
    n: int
    """Pairs used (both values finite)."""


def spearman(a: ArrayLike, b: ArrayLike) -> RankCorrelation:
    """Spearman rank correlation on pairs where both values are finite; ties get mid-ranks.

    NaN rho when fewer than 3 pairs remain or either side is constant (rank order undefined).
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError("a and b must have the same shape")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return RankCorrelation(float("nan"), float("nan"), int(len(x)))
    result = stats.spearmanr(x, y)
    return RankCorrelation(float(result.statistic), float(result.pvalue), int(len(x)))
