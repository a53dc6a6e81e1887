"""Case-mix adjustment: score agents as if they all took the centre's average mix of calls.

An agent who takes only the hard queue (billing disputes, a second language) answers
more "no" through no fault of their own. Each answer gets an expected outcome from its
mix alone; the agent is credited with what they did above or below that expectation:

    adjusted = observed - expected + centre_mean      (rate scale, clipped to [0, 1])

Two ways to get the expected outcome per answer:

* ``"cells"`` (default) - indirect standardisation: the centre's mean outcome in the
  answer's mix cell (e.g. queue x language), sparse cells shrunk toward the centre mean.
* ``"logistic"`` - additive logistic model with agent fixed effects (CMS HCAHPS style):
  mix effects are estimated *within* agents, so an agent who dominates a cell does not
  set that cell's bar themselves.

Neither can separate agent from mix when an agent is the only one on a queue; the
queue's difficulty is only learnable from other agents who also take it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, special

DEFAULT_CELL_PRIOR = 10.0
"""Pseudo-answers at the centre mean added to each mix cell: a cell with 10 answers is half-trusted."""

DEFAULT_RIDGE = 1.0
"""L2 penalty on logit agent and mix effects (a N(0, 1) prior): keeps all-yes agents and
empty levels finite, negligible once a level has more than a few dozen answers."""


@dataclass(frozen=True)
class AdjustedRate:
    """One agent's case-mix-adjusted rate, with the pieces that produce it."""

    agent: Hashable
    n: int
    observed: float
    expected: float
    """Mean expected outcome of the agent's answers from their mix alone."""
    centre: float
    adjusted: float

    @property
    def successes(self) -> float:
        """Adjusted pseudo-count, to feed `shrinkage.shrink(successes, n, prior)`."""
        return self.adjusted * self.n


def _encode(values: Sequence[Hashable]) -> tuple[list[Hashable], np.ndarray]:
    """Integer codes in first-seen order; works for any hashable labels (str, int, None)."""
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp, count=len(values))
    return list(index), codes


def _mix_codes(mix: Mapping[str, Sequence[Hashable]], size: int) -> list[np.ndarray]:
    columns = []
    for name, values in mix.items():
        if len(values) != size:
            raise ValueError(f"mix variable {name!r} has {len(values)} values, expected {size}")
        columns.append(_encode(values)[1])
    return columns


def expected_from_cells(
    outcomes: np.ndarray, mix_codes: list[np.ndarray], cell_prior: float = DEFAULT_CELL_PRIOR
) -> np.ndarray:
    """Per-answer expected outcome = shrunk mean of the answer's mix cell over the whole centre."""
    centre = outcomes.mean()
    if not mix_codes:
        return np.full(len(outcomes), centre)
    _, cell = np.unique(np.column_stack(mix_codes), axis=0, return_inverse=True)
    cell = cell.ravel()
    sums = np.bincount(cell, weights=outcomes)
    counts = np.bincount(cell)
    return ((sums + cell_prior * centre) / (counts + cell_prior))[cell]


def _design(agent_codes: np.ndarray, mix_codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Unique (agent, mix cell) rows as [intercept | agent one-hot | mix one-hots], the row of
    each answer, and the column where mix dummies start. Full one-hot coding is identified by the ridge."""
    keys = np.column_stack([agent_codes, *mix_codes])
    rows, inverse = np.unique(keys, axis=0, return_inverse=True)
    blocks = [np.ones((len(rows), 1))]
    for j in range(keys.shape[1]):
        blocks.append(np.eye(keys[:, j].max() + 1)[rows[:, j]])
    mix_start = 1 + blocks[1].shape[1]
    return np.hstack(blocks), inverse.ravel(), mix_start


def _fit_logistic(X: np.ndarray, y: np.ndarray, n: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge-penalised binomial logistic regression by damped Newton; intercept unpenalised."""
    penalty = np.full(X.shape[1], ridge)
    penalty[0] = 0.0

    def objective(theta: np.ndarray) -> float:
        eta = X @ theta
        return -float(y @ eta - n @ np.logaddexp(0, eta)) + 0.5 * float(penalty @ theta**2)

    theta = np.zeros(X.shape[1])
    theta[0] = special.logit(np.clip(y.sum() / n.sum(), 1e-6, 1 - 1e-6))
    current = objective(theta)
    for _ in range(100):
        mu = special.expit(X @ theta)
        grad = X.T @ (y - n * mu) - penalty * theta
        hess = (X.T * (n * mu * (1 - mu))) @ X + np.diag(penalty) + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while objective(theta + scale * step) > current + 1e-12 and scale > 1e-6:
            scale /= 2
        theta = theta + scale * step
        current = objective(theta)
        if np.max(np.abs(scale * step)) < 1e-9:
            break
    return theta


def expected_from_logistic(
    agent_codes: np.ndarray, outcomes: np.ndarray, mix_codes: list[np.ndarray], ridge: float = DEFAULT_RIDGE
) -> np.ndarray:
    """Per-answer expected outcome from mix effects of a model with agent fixed effects.

    Agent effects are dropped and replaced by one common intercept, calibrated so that the
    expected outcomes average to the centre mean (as they do for the cells method).
    """
    centre = outcomes.mean()
    if not mix_codes or centre in (0.0, 1.0):
        return np.full(len(outcomes), centre)
    X, row, mix_start = _design(agent_codes, mix_codes)
    y = np.bincount(row, weights=outcomes, minlength=len(X))
    n = np.bincount(row, minlength=len(X)).astype(float)
    theta = _fit_logistic(X, y, n, ridge)
    mix_eta = (X[:, mix_start:] @ theta[mix_start:])[row]
    shift = optimize.brentq(lambda c: special.expit(c + mix_eta).mean() - centre, -50.0, 50.0)
    return special.expit(shift + mix_eta)


def case_mix_adjust(
    agents: Sequence[Hashable],
    outcomes: Sequence[int],
    mix: Mapping[str, Sequence[Hashable]],
    *,
    method: Literal["cells", "logistic"] = "cells",
    cell_prior: float = DEFAULT_CELL_PRIOR,
    ridge: float = DEFAULT_RIDGE,
) -> dict[Hashable, AdjustedRate]:
    """Adjusted rate per agent from answer-level records (parallel sequences).

    `outcomes` are 0/1 answers (e.g. Q1 "yes", or CSAT top-2-box); `mix` maps a variable
    name (queue, language, ...) to one label per answer.
    """
    y = np.asarray(outcomes, dtype=float)
    if len(agents) != len(y) or len(y) == 0:
        raise ValueError("need one agent per outcome and at least one answer")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0 or 1")
    labels, agent_codes = _encode(agents)
    mix_codes = _mix_codes(mix, len(y))
    if method == "cells":
        expected = expected_from_cells(y, mix_codes, cell_prior)
    elif method == "logistic":
        expected = expected_from_logistic(agent_codes, y, mix_codes, ridge)
    else:
        raise ValueError(f"unknown method {method!r}")
    centre = float(y.mean())
    counts = np.bincount(agent_codes)
    observed = np.bincount(agent_codes, weights=y) / counts
    expected_mean = np.bincount(agent_codes, weights=expected) / counts
    adjusted = np.clip(observed - expected_mean + centre, 0.0, 1.0)
    return {
        label: AdjustedRate(label, int(counts[i]), float(observed[i]), float(expected_mean[i]), centre, float(adjusted[i]))
        for i, label in enumerate(labels)
    }
