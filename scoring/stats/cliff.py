"""Cap-cliff detector: too many agent-ended calls just under a handle-time cap.

An agent who cuts calls to stay under, say, a 13-minute cap leaves a bump of agent-ended
endings in the last seconds before 780 s (and a dip just after). Honest talk times have a
smooth density there. The test (a bunching estimator with a McCrary-style one-sided test):

1. Bin talk times in `bin_width`-second bins aligned on the cap, over
   [cap - window - span, cap + span).
2. Fit a Poisson regression of bin counts on a polynomial (default quadratic) in the bin
   centre, using the bins on both sides but *not* the window [cap - window, cap).
   log-count quadratic = a locally Gaussian/lognormal-shaped density, which matches the
   right tail of talk-time distributions over a few minutes.
3. Expected window count E = sum of the fitted means over the window bins; its variance V
   by the delta method from the Poisson fit.
4. p-value = P(O >= observed) under a negative binomial with mean E and variance E + V,
   i.e. Poisson noise plus the uncertainty of E. Exact for small counts, unlike a z-test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

DEFAULT_CAP = 780.0
DEFAULT_WINDOW = 30.0
DEFAULT_BIN_WIDTH = 5.0
DEFAULT_SPAN = 240.0
"""Seconds fitted on each side: wide enough to pin down a quadratic, narrow enough that the
quadratic still describes the density."""
DEFAULT_DEGREE = 2
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_CALLS = 30
"""Fewer calls than this in the fitted range plus window -> insufficient data, no verdict.
Below ~30 a three-parameter fit over ~100 bins is guesswork; above it the test is at or
below its nominal false-positive rate in simulation (see docs/scoring.md)."""


@dataclass(frozen=True)
class CliffResult:
    observed: int
    """Calls in [cap - window, cap)."""
    expected: float
    """Count the smooth density predicts for the window (NaN if insufficient)."""
    excess_ratio: float
    """observed / expected."""
    z: float
    """(observed - expected) / sqrt(expected + var(expected)), for display."""
    p_value: float
    """One-sided: probability of at least `observed` if there is no cliff."""
    significant: bool
    insufficient: bool
    bins_used: int
    """Bins in the smooth fit (window excluded)."""
    calls_near: int
    """Calls in the fitted range plus the window."""


def in_cap_window(talk: ArrayLike, cap: float = DEFAULT_CAP, window: float = DEFAULT_WINDOW) -> np.ndarray:
    """Per-call rule: ended in [cap - window, cap). One such call proves nothing; use for listing."""
    t = np.asarray(talk, dtype=float)
    return (t >= cap - window) & (t < cap)


def _poisson_fit(X: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Poisson GLM by IRLS; returns (coefficients, covariance) or None if it does not converge."""
    beta = np.linalg.lstsq(X, np.log(counts + 0.5), rcond=None)[0]
    for _ in range(100):
        mu = np.exp(X @ beta)
        info = (X.T * mu) @ X
        step = np.linalg.solve(info, X.T @ (counts - mu))
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            return None
        if np.max(np.abs(step)) < 1e-10:
            mu = np.exp(X @ beta)
            return beta, np.linalg.inv((X.T * mu) @ X)
    return None


def _insufficient(observed: int, bins: int, near: int) -> CliffResult:
    nan = float("nan")
    return CliffResult(observed, nan, nan, nan, 1.0, False, True, bins, near)


def detect_cliff(
    talk_seconds: ArrayLike,
    cap: float = DEFAULT_CAP,
    *,
    window: float = DEFAULT_WINDOW,
    bin_width: float = DEFAULT_BIN_WIDTH,
    span: float = DEFAULT_SPAN,
    degree: int = DEFAULT_DEGREE,
    alpha: float = DEFAULT_ALPHA,
    min_calls: int = DEFAULT_MIN_CALLS,
) -> CliffResult:
    """Test for an excess of agent-ended talk times just under `cap` (see module docstring).

    Pass the talk times of agent-ended legs only: caller hang-ups near the cap are not gaming
    and would dilute the signal.
    """
    window_bins, span_bins = window / bin_width, span / bin_width
    if not (window_bins.is_integer() and span_bins.is_integer() and window_bins >= 1):
        raise ValueError("window and span must be positive multiples of bin_width")
    window_bins, span_bins = int(window_bins), int(span_bins)
    t = np.asarray(talk_seconds, dtype=float).ravel()
    edges = cap + bin_width * np.arange(-(window_bins + span_bins), span_bins + 1)
    counts = np.histogram(t, bins=edges)[0].astype(float)
    centres = (edges[:-1] + bin_width / 2 - cap) / span
    in_window = (centres * span > -window) & (centres < 0)
    observed, near = int(counts[in_window].sum()), int(counts.sum())
    fit_bins = int((~in_window).sum())
    if near < min_calls:
        return _insufficient(observed, fit_bins, near)
    X = np.vander(centres, degree + 1, increasing=True)
    fit = _poisson_fit(X[~in_window], counts[~in_window])
    if fit is None:
        return _insufficient(observed, fit_bins, near)
    beta, cov = fit
    mu_window = np.exp(X[in_window] @ beta)
    expected = float(mu_window.sum())
    gradient = mu_window @ X[in_window]
    var_expected = float(gradient @ cov @ gradient)
    p_value = _excess_p_value(observed, expected, var_expected)
    z = (observed - expected) / np.sqrt(expected + var_expected)
    return CliffResult(
        observed=observed,
        expected=expected,
        excess_ratio=observed / expected if expected > 0 else float("inf"),
        z=float(z),
        p_value=p_value,
        significant=p_value < alpha,
        insufficient=False,
        bins_used=fit_bins,
        calls_near=near,
    )


def _excess_p_value(observed: int, expected: float, var_expected: float) -> float:
    """P(O >= observed) for O ~ NegBin(mean E, var E + V): Poisson-gamma mixture over E's uncertainty."""
    if observed == 0:
        return 1.0
    if var_expected <= 1e-12 * max(expected, 1.0):
        return float(stats.poisson.sf(observed - 1, expected))
    r = expected**2 / var_expected
    return float(stats.nbinom.sf(observed - 1, r, r / (r + expected)))
