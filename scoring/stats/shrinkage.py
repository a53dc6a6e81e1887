"""Small-sample estimates for survey rates and 1-5 means.

Agents answer different numbers of surveys; a raw rate of 3/3 must not outrank
180/200. Empirical Bayes pulls each agent toward the team by an amount that
depends on how much data the agent has and how much agents really differ.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

MIN_AGENTS_FOR_FIT = 5
"""Below this many agents with answers, the spread between agents is not estimable."""

FALLBACK_STRENGTH = 10.0
"""Prior strength (pseudo-answers) used when the prior cannot be fitted."""

STRENGTH_BOUNDS = (2.0, 200.0)
"""Clamp for alpha+beta. Lower: below 2 the prior turns U-shaped and shrinks
nothing. Upper: a fitted 'agents do not differ' would otherwise reach strength
in the thousands and rank everyone by the team mean; at 200 an agent with 200
answers still carries half the weight of their own estimate."""


@dataclass(frozen=True)
class BetaPrior:
    """Beta(alpha, beta) prior for an agent's true rate."""

    alpha: float
    beta: float

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.beta > 0):
            raise ValueError(f"alpha and beta must be > 0, got {self.alpha}, {self.beta}")

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """Prior weight in pseudo-answers (alpha + beta)."""
        return self.alpha + self.beta

    @classmethod
    def from_mean(cls, mean: float, strength: float) -> BetaPrior:
        """Explicit prior, e.g. shrink toward a team mean with a chosen weight."""
        if not 0 < mean < 1:
            raise ValueError(f"mean must be in (0, 1), got {mean}")
        if strength <= 0:
            raise ValueError(f"strength must be > 0, got {strength}")
        return cls(mean * strength, (1 - mean) * strength)


@dataclass(frozen=True)
class Estimate:
    """An agent's rate or mean: raw value, shrunk point estimate and interval."""

    raw: float
    """Unshrunk value; NaN when n == 0."""
    mean: float
    low: float
    high: float
    n: float


def _counts(successes: ArrayLike, trials: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if x.shape != n.shape:
        raise ValueError("successes and trials must have the same shape")
    if np.any(n < 0) or np.any(x < 0) or np.any(x > n):
        raise ValueError("need 0 <= successes <= trials")
    return x, n


def _tail(level: float) -> float:
    """Probability in each tail of a two-sided `level` interval."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return (1 - level) / 2


@functools.lru_cache(maxsize=8)
def _z(level: float) -> float:
    return float(stats.norm.isf(_tail(level)))


def _pooled_prior(x: np.ndarray, n: np.ndarray, strength: float) -> BetaPrior:
    """Weak prior at the pooled mean; +0.5/+1 keeps it inside (0, 1) for all-0 or all-1 data."""
    mean = (x.sum() + 0.5) / (n.sum() + 1.0)
    return BetaPrior.from_mean(mean, strength)


def _moment_strength(x: np.ndarray, n: np.ndarray, bounds: tuple[float, float]) -> float:
    """Method-of-moments alpha+beta: between-agent variance = observed - binomial noise."""
    p = x / n
    m = p.mean()
    between = p.var(ddof=1) - m * (1 - m) * np.mean(1 / n)
    if between <= 0 or m <= 0 or m >= 1:
        return bounds[1]
    return float(np.clip(m * (1 - m) / between - 1, *bounds))


def _neg_loglik(params: np.ndarray, x: np.ndarray, n: np.ndarray) -> float:
    """Beta-binomial -loglik in (logit mean, log strength); the binomial coefficient is dropped
    (it does not depend on the prior), which also admits non-integer adjusted counts."""
    mean = special.expit(params[0])
    strength = np.exp(params[1])
    a, b = mean * strength, (1 - mean) * strength
    return -float(np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b)))


def fit_beta_prior(
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    min_agents: int = MIN_AGENTS_FOR_FIT,
    fallback_strength: float = FALLBACK_STRENGTH,
    strength_bounds: tuple[float, float] = STRENGTH_BOUNDS,
) -> BetaPrior:
    """Fit Beta(alpha, beta) to per-agent counts by beta-binomial maximum likelihood.

    Optimised in (logit mean, log strength) so that the strength clamp is a box bound;
    this is the same likelihood as in (log alpha, log beta). Started from the method of
    moments. Falls back to a weak pooled-mean prior when fewer than `min_agents` agents
    have answers or when everyone is at 0% or 100% (no spread to learn from). When agents
    look identical the fit hits the upper strength bound, i.e. strong shrinkage, by design.
    """
    x, n = _counts(successes, trials)
    x, n = x.ravel(), n.ravel()
    has_data = n > 0
    x, n = x[has_data], n[has_data]
    if len(n) == 0:
        return BetaPrior(1.0, 1.0)
    pooled = x.sum() / n.sum()
    if len(n) < min_agents or pooled in (0.0, 1.0):
        return _pooled_prior(x, n, fallback_strength)
    lo, hi = strength_bounds
    start = np.array([special.logit(pooled), np.log(_moment_strength(x, n, strength_bounds))])
    result = optimize.minimize(
        _neg_loglik,
        start,
        args=(x, n),
        method="L-BFGS-B",
        bounds=[(-10.0, 10.0), (np.log(lo), np.log(hi))],
    )
    params = result.x if result.success else start
    return BetaPrior.from_mean(float(special.expit(params[0])), float(np.exp(params[1])))


def shrink_many(
    successes: ArrayLike, trials: ArrayLike, prior: BetaPrior, level: float = 0.90
) -> list[Estimate]:
    """Posterior mean and equal-tailed interval of Beta(x + alpha, n - x + beta) per agent."""
    x, n = _counts(successes, trials)
    x, n = np.atleast_1d(x), np.atleast_1d(n)
    tail = _tail(level)
    a, b = x + prior.alpha, n - x + prior.beta
    means = a / (a + b)
    lows = stats.beta.ppf(tail, a, b)
    highs = stats.beta.isf(tail, a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        raws = np.where(n > 0, x / n, np.nan)
    return [
        Estimate(float(r), float(m), float(lo), float(hi), float(k))
        for r, m, lo, hi, k in zip(raws, means, lows, highs, n)
    ]


def shrink(successes: float, trials: float, prior: BetaPrior, level: float = 0.90) -> Estimate:
    """Shrunk estimate for one agent; see `shrink_many`."""
    return shrink_many([successes], [trials], prior, level)[0]


def wilson_interval(successes: float, trials: float, level: float = 0.90) -> tuple[float, float]:
    """Wilson score interval; (0, 1) when there are no trials. Reference for the beta interval."""
    x, n = _counts(successes, trials)
    z = _z(level)
    if n == 0:
        return 0.0, 1.0
    p = x / n
    centre = p + z * z / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return float(max(0.0, (centre - half) / denom)), float(min(1.0, (centre + half) / denom))


def bayesian_average(
    values_sum: float,
    n: float,
    prior_mean: float,
    prior_weight: float,
    *,
    values_sq_sum: float | None = None,
    prior_var: float = 1.0,
    level: float = 0.90,
    bounds: tuple[float, float] = (1.0, 5.0),
) -> Estimate:
    """Bayesian average (sum + m*C) / (n + m) of 1-5 answers, with a normal-approx interval.

    The prior counts as `prior_weight` pseudo-answers with mean `prior_mean` and answer
    variance `prior_var` (pass the team's; 1.0 is typical for 1-5 CSAT). The answer variance
    is shrunk the same way, s^2 = (SS_within + m * prior_var) / (n - 1 + m), so one agent
    with three identical answers does not get a zero-width interval. Interval:
    mean +/- z * s / sqrt(n + m), clipped to `bounds`.
    """
    if n < 0 or prior_weight <= 0 or prior_var < 0:
        raise ValueError("need n >= 0, prior_weight > 0, prior_var >= 0")
    z = _z(level)
    mean = (values_sum + prior_weight * prior_mean) / (n + prior_weight)
    within_ss = 0.0
    if values_sq_sum is not None and n > 0:
        within_ss = max(0.0, values_sq_sum - values_sum**2 / n)
    dof = max(n - 1, 0.0) if values_sq_sum is not None else 0.0
    var = (within_ss + prior_weight * prior_var) / (dof + prior_weight)
    half = z * np.sqrt(var / (n + prior_weight))
    raw = values_sum / n if n > 0 else float("nan")
    return Estimate(
        float(raw), float(mean), float(max(bounds[0], mean - half)), float(min(bounds[1], mean + half)), float(n)
    )
