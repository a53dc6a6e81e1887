import math

import pytest

from scoring.stats.composite import (
    DEFAULT_TIERS,
    BonusTiers,
    CompositeWeights,
    Tier,
    bonus_tier,
    composite,
    rank,
    spearman,
    tier_for,
)


def test_breakdown_arithmetic_with_default_weights():
    b = composite(0.9, 0.8, 0.7, confirmed_flags=1, handled=200, responses=50)
    points = {p.name: p.points for p in b.parts}
    assert points == pytest.approx({"adequacy": 45.0, "csat": 24.0, "fcr": 14.0})
    assert [p.weight for p in b.parts] == [0.5, 0.3, 0.2]
    assert b.flags_per_100 == pytest.approx(0.5)
    assert b.penalty == pytest.approx(0.5)          # a covered call costs 100 points over the handled calls
    assert b.score == pytest.approx(83.0 - 0.5)
    assert not b.insufficient


def test_flag_penalty_is_capped_and_score_floored():
    weights = CompositeWeights(flag_penalty=10.0, flag_penalty_cap=20.0)
    b = composite(0.5, 0.5, 0.5, confirmed_flags=30, handled=100, weights=weights, responses=40)
    assert b.flags_per_100 == pytest.approx(30.0)
    assert b.penalty == pytest.approx(20.0)
    assert b.score == pytest.approx(30.0)
    low = composite(0.1, 0.1, 0.1, confirmed_flags=30, handled=100, weights=weights, responses=40)
    assert low.score == 0.0


def test_custom_weights_change_contributions():
    weights = CompositeWeights(adequacy=0.2, csat=0.2, fcr=0.6, flag_penalty=0.0)
    b = composite(1.0, 0.0, 0.5, confirmed_flags=5, handled=10, weights=weights, responses=40)
    assert b.score == pytest.approx(20.0 + 0.0 + 30.0)
    assert b.penalty == 0.0


def test_no_handled_calls_means_no_penalty():
    assert composite(0.8, 0.8, 0.8, confirmed_flags=0, handled=0, responses=25).penalty == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(adequacy=0.6, csat=0.3, fcr=0.2),
        dict(adequacy=1.2, csat=-0.1, fcr=-0.1),
        dict(flag_penalty=-1.0),
    ],
)
def test_invalid_weights_rejected(kwargs):
    with pytest.raises(ValueError):
        CompositeWeights(**kwargs)


@pytest.mark.parametrize(
    "args",
    [(1.1, 0.5, 0.5, 0, 10), (0.5, 0.5, 0.5, 11, 10), (0.5, 0.5, 0.5, -1, 10)],
)
def test_invalid_inputs_rejected(args):
    with pytest.raises(ValueError):
        composite(*args, responses=30)


@pytest.mark.parametrize(
    "score, name, multiplier",
    [
        (0.0, "none", 0.0),
        (59.999, "none", 0.0),
        (60.0, "bronze", 0.5),
        (69.999, "bronze", 0.5),
        (70.0, "silver", 1.0),
        (80.0, "gold", 1.25),
        (89.999, "gold", 1.25),
        (90.0, "platinum", 1.5),
        (100.0, "platinum", 1.5),
    ],
)
def test_default_tier_boundaries_are_inclusive(score, name, multiplier):
    tier = tier_for(score)
    assert (tier.name, tier.multiplier) == (name, multiplier)


def test_float_dust_does_not_drop_a_tier():
    b = composite(0.50, 0.72, 0.67, 0, 100, responses=30)  # exactly 25 + 21.6 + 13.4 = 60
    assert b.score == 60.0
    assert bonus_tier(b).name == "bronze"


def test_nan_score_has_no_tier():
    with pytest.raises(ValueError):
        tier_for(math.nan)


def test_custom_tiers_and_validation():
    tiers = BonusTiers((Tier("flat", 0.0, 1.0), Tier("top", 95.0, 2.0)))
    assert tier_for(94.0, tiers).name == "flat"
    assert tier_for(95.0, tiers).name == "top"
    with pytest.raises(ValueError):
        BonusTiers((Tier("a", 0.0, 0.0), Tier("b", 50.0, 1.0), Tier("c", 50.0, 1.5)))
    with pytest.raises(ValueError):
        BonusTiers((Tier("a", 10.0, 0.0),))


def test_insufficient_responses_get_no_tier_and_no_rank():
    few = composite(1.0, 1.0, 1.0, 0, 40, responses=19)
    enough = composite(0.7, 0.7, 0.7, 0, 40, responses=20)
    assert few.insufficient and not enough.insufficient
    assert few.score == pytest.approx(100.0)  # still shown, but carries no money
    assert bonus_tier(few) is None
    assert bonus_tier(enough) == DEFAULT_TIERS.tier_for(70.0)
    assert rank({"few": few, "enough": enough}) == {"few": None, "enough": 1}
    assert composite(1.0, 1.0, 1.0, 0, 40, responses=5, min_responses=5).insufficient is False


def test_rank_orders_by_score_with_ties_sharing_a_rank():
    def at(score):
        return composite(score / 100, score / 100, score / 100, 0, 100, responses=30)

    ranks = rank({"a": at(70), "b": at(90), "c": at(70), "d": at(50)})
    assert ranks == {"b": 1, "a": 2, "c": 2, "d": 4}


def test_spearman_drops_nan_pairs_and_handles_ties():
    r = spearman([1, 2, 3, float("nan"), 5], [10, 20, 30, 40, float("nan")])
    assert r.n == 3 and r.rho == pytest.approx(1.0)
    tied = spearman([1, 1, 2, 3], [1, 2, 3, 4])
    assert tied.rho == pytest.approx(0.9486832980505138)  # Pearson on mid-ranks [1.5, 1.5, 3, 4]
    assert spearman([3, 2, 1], [1, 2, 3]).rho == pytest.approx(-1.0)


def test_spearman_undefined_cases_return_nan():
    assert math.isnan(spearman([1, 2], [2, 1]).rho)
    assert math.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4]).rho)
    with pytest.raises(ValueError):
        spearman([1, 2, 3], [1, 2])
