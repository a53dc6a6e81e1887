import numpy as np
import pytest

from scoring.stats.cliff import detect_cliff, in_cap_window

CAP = 780


def honest(seed: int, n: int) -> np.ndarray:
    """Whole-second lognormal talk times, median 5 min: no cliff at 13 min."""
    return np.round(np.random.default_rng(seed).lognormal(np.log(300), 0.6, n))


def planted(seed: int, n: int, share: float = 0.08) -> np.ndarray:
    """Honest traffic with `share` of calls moved into [cap - 20, cap)."""
    rng = np.random.default_rng(seed)
    talk = np.round(rng.lognormal(np.log(300), 0.6, n))
    moved = rng.choice(n, int(share * n), replace=False)
    talk[moved] = rng.integers(CAP - 20, CAP, moved.size)
    return talk


def flat(per_bin: int) -> np.ndarray:
    """`per_bin` calls in every 5 s bin from cap - 270 to cap + 240 (the default fitted range)."""
    return np.repeat(np.arange(CAP - 270, CAP + 240, 5) + 2.0, per_bin)


def test_in_cap_window_boundaries():
    talk = [749.9, 750.0, 779.9, 780.0, 900.0]
    assert in_cap_window(talk, CAP, 30).tolist() == [False, True, True, False, False]


def test_flat_density_gives_hand_computed_expectation():
    result = detect_cliff(flat(4), CAP)
    assert result.bins_used == 96  # 48 bins each side of the 6-bin window
    assert result.calls_near == 102 * 4
    assert result.observed == 24
    assert result.expected == pytest.approx(24.0, rel=1e-6)
    assert result.excess_ratio == pytest.approx(1.0, rel=1e-6)
    assert not result.significant


def test_doubled_window_on_flat_density_is_significant():
    extra = np.repeat(np.arange(CAP - 30, CAP, 5) + 2.0, 4)
    result = detect_cliff(np.r_[flat(4), extra], CAP)
    assert result.observed == 48
    assert result.expected == pytest.approx(24.0, rel=1e-6)  # the window is not in the fit
    assert result.excess_ratio == pytest.approx(2.0, rel=1e-6)
    assert result.z > 3 and result.p_value < 1e-3 and result.significant


def test_calls_outside_the_fitted_range_do_not_matter():
    base = honest(1, 2000)
    far = np.r_[base, [10.0] * 500, [5000.0] * 500]
    assert detect_cliff(far, CAP) == detect_cliff(base, CAP)


@pytest.mark.parametrize("seed", range(20))
def test_finds_planted_cliff(seed):
    result = detect_cliff(planted(seed, 1000), CAP)
    assert result.significant and not result.insufficient
    assert result.excess_ratio > 3


def test_finds_a_small_cliff_in_a_large_sample():
    result = detect_cliff(planted(3, 20000, share=0.005), CAP)
    assert result.significant
    assert 1.5 < result.excess_ratio < 3


def test_false_positive_rate_on_honest_traffic_is_near_nominal():
    rejections = [detect_cliff(honest(seed, 2000), CAP, alpha=0.05).significant for seed in range(200)]
    assert 0.01 <= np.mean(rejections) <= 0.08


def test_p_values_on_honest_traffic_are_roughly_uniform():
    p_values = np.array([detect_cliff(honest(seed, 2000), CAP).p_value for seed in range(200)])
    assert np.mean(p_values < 0.01) <= 0.03
    assert 0.35 < np.median(p_values) < 0.65  # roughly uniform under no cliff


def test_small_sample_is_insufficient_not_significant():
    result = detect_cliff(planted(0, 60), CAP)
    assert result.insufficient and not result.significant
    assert np.isnan(result.expected) and result.p_value == 1.0


def test_no_calls_near_cap_is_insufficient():
    result = detect_cliff(np.full(1000, 120.0), CAP)
    assert result.insufficient and result.calls_near == 0 and result.observed == 0


def test_window_must_align_with_bins():
    with pytest.raises(ValueError):
        detect_cliff(honest(0, 100), CAP, window=32, bin_width=5)
