import math
from dataclasses import astuple

import numpy as np
import pytest
from scipy import stats

from scoring.stats.shrinkage import (
    FALLBACK_STRENGTH,
    STRENGTH_BOUNDS,
    BetaPrior,
    bayesian_average,
    fit_beta_prior,
    shrink,
    shrink_many,
    wilson_interval,
)


def test_shrink_matches_hand_computed_posterior():
    est = shrink(7, 10, BetaPrior(3, 2), level=0.90)
    assert est.raw == pytest.approx(0.7)
    assert est.mean == pytest.approx(10 / 15)
    assert est.low == pytest.approx(stats.beta(10, 5).ppf(0.05))
    assert est.high == pytest.approx(stats.beta(10, 5).ppf(0.95))
    assert est.n == 10


def test_shrink_with_no_answers_is_the_prior():
    est = shrink(0, 0, BetaPrior(3, 2))
    assert math.isnan(est.raw)
    assert est.mean == pytest.approx(0.6)
    assert est.low == pytest.approx(stats.beta(3, 2).ppf(0.05))


def test_small_samples_move_more_than_large_ones():
    prior = BetaPrior.from_mean(0.8, 20)
    small, large = shrink_many([3, 150], [3, 200], prior)
    assert small.raw == 1.0 and small.mean == pytest.approx((3 + 16) / 23)
    assert large.mean == pytest.approx((150 + 16) / 220)
    assert abs(small.mean - small.raw) > abs(large.mean - large.raw)
    assert (small.high - small.low) > (large.high - large.low)
    # 3/3 no longer outranks 150/200 by a mile
    assert small.mean < 0.85


def test_shrink_many_equals_scalar_shrink():
    prior = BetaPrior(4.0, 1.5)
    many = shrink_many([0, 5, 9], [0, 10, 9], prior, level=0.8)
    single = [shrink(x, n, prior, level=0.8) for x, n in [(0, 0), (5, 10), (9, 9)]]
    np.testing.assert_array_equal([astuple(e) for e in many], [astuple(e) for e in single])


@pytest.mark.parametrize("x, n", [(-1, 5), (6, 5), (1, -1)])
def test_shrink_rejects_impossible_counts(x, n):
    with pytest.raises(ValueError):
        shrink(x, n, BetaPrior(1, 1))


def test_prior_from_mean_and_validation():
    prior = BetaPrior.from_mean(0.75, 40)
    assert (prior.alpha, prior.beta) == pytest.approx((30, 10))
    assert prior.mean == pytest.approx(0.75) and prior.strength == pytest.approx(40)
    with pytest.raises(ValueError):
        BetaPrior(0, 1)
    with pytest.raises(ValueError):
        BetaPrior.from_mean(1.0, 10)


def test_mle_recovers_known_prior():
    rng = np.random.default_rng(7)
    true = BetaPrior(16.0, 4.0)  # mean 0.8, strength 20
    n = rng.integers(20, 200, size=400)
    x = rng.binomial(n, rng.beta(true.alpha, true.beta, size=n.size))
    fitted = fit_beta_prior(x, n)
    assert fitted.mean == pytest.approx(0.8, abs=0.01)
    assert fitted.strength == pytest.approx(20, rel=0.2)


def test_identical_agents_hit_the_upper_strength_clamp():
    n = np.full(30, 100)
    x = np.full(30, 80)
    fitted = fit_beta_prior(x, n)
    assert fitted.mean == pytest.approx(0.8, abs=0.005)
    assert fitted.strength == pytest.approx(STRENGTH_BOUNDS[1], rel=1e-3)


def test_too_few_agents_fall_back_to_weak_pooled_prior():
    fitted = fit_beta_prior([9, 30], [10, 40])
    assert fitted.strength == pytest.approx(FALLBACK_STRENGTH)
    assert fitted.mean == pytest.approx(39.5 / 51)


def test_all_successes_gives_valid_prior_below_one():
    fitted = fit_beta_prior([10] * 8, [10] * 8)
    assert 0.9 < fitted.mean < 1.0
    assert fitted.strength == pytest.approx(FALLBACK_STRENGTH)


def test_no_data_gives_uniform_prior():
    assert fit_beta_prior([0, 0], [0, 0]) == BetaPrior(1.0, 1.0)


def test_agents_without_answers_are_ignored_by_the_fit():
    rng = np.random.default_rng(3)
    n = rng.integers(30, 100, size=50)
    x = rng.binomial(n, 0.7)
    assert fit_beta_prior(np.r_[x, 0, 0], np.r_[n, 0, 0]) == fit_beta_prior(x, n)


def test_interval_coverage_is_near_nominal():
    """With the true prior, 90% posterior intervals cover the true rate ~90% of the time."""
    rng = np.random.default_rng(11)
    prior = BetaPrior(8.0, 2.0)
    p = rng.beta(prior.alpha, prior.beta, size=4000)
    n = rng.integers(5, 60, size=p.size)
    x = rng.binomial(n, p)
    est = shrink_many(x, n, prior, level=0.90)
    covered = np.mean([e.low <= pi <= e.high for e, pi in zip(est, p)])
    assert 0.88 <= covered <= 0.92


def test_wilson_interval_matches_formula():
    low, high = wilson_interval(8, 10, level=0.95)
    z = stats.norm.ppf(0.975)
    p, n = 0.8, 10
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 5)[0] == pytest.approx(0.0)


def test_bayesian_average_mean_and_shrunk_variance():
    # answers 5, 5, 4 -> sum 14, sum of squares 66, within SS = 66 - 14^2/3 = 2/3
    est = bayesian_average(14, 3, prior_mean=4.0, prior_weight=5, values_sq_sum=66, prior_var=1.2, level=0.90)
    assert est.raw == pytest.approx(14 / 3)
    assert est.mean == pytest.approx((14 + 5 * 4.0) / 8)
    var = (2 / 3 + 5 * 1.2) / (2 + 5)
    half = stats.norm.ppf(0.95) * math.sqrt(var / 8)
    assert (est.low, est.high) == pytest.approx((est.mean - half, est.mean + half))


def test_bayesian_average_never_collapses_to_zero_width_and_stays_on_scale():
    est = bayesian_average(15, 3, prior_mean=4.5, prior_weight=2, values_sq_sum=75)
    assert est.high - est.low > 0.5
    assert 1.0 <= est.low and est.high <= 5.0
    empty = bayesian_average(0, 0, prior_mean=4.0, prior_weight=5)
    assert math.isnan(empty.raw) and empty.mean == pytest.approx(4.0)
