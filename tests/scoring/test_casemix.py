import numpy as np
import pytest

from scoring.stats.casemix import case_mix_adjust
from scoring.stats.composite import spearman


def answers(agent, queue, yes, total):
    """`total` answers by `agent` on `queue`, the first `yes` of them positive."""
    return [agent] * total, [1] * yes + [0] * (total - yes), [queue] * total


def build(*groups):
    agents, outcomes, queues = [], [], []
    for g in groups:
        a, o, q = answers(*g)
        agents += a
        outcomes += o
        queues += q
    return agents, outcomes, {"queue": queues}


# Equal skill everywhere: 60% on the hard queue, 90% on the easy one.
# A takes only hard calls, B only easy ones, C and D take both.
EQUAL_SKILL = build(
    ("A", "hard", 60, 100),
    ("B", "easy", 90, 100),
    ("C", "hard", 30, 50),
    ("C", "easy", 45, 50),
    ("D", "hard", 30, 50),
    ("D", "easy", 45, 50),
)


def test_hand_computed_indirect_standardisation():
    result = case_mix_adjust(*EQUAL_SKILL, cell_prior=0.0)
    a, b, c = result["A"], result["B"], result["C"]
    assert (a.observed, b.observed) == pytest.approx((0.6, 0.9))
    assert (a.expected, b.expected, c.expected) == pytest.approx((0.6, 0.9, 0.75))
    assert a.centre == pytest.approx(0.75)
    assert [r.adjusted for r in result.values()] == pytest.approx([0.75] * 4)
    assert a.n == 100 and a.successes == pytest.approx(75.0)


@pytest.mark.parametrize("method", ["cells", "logistic"])
def test_hard_queue_agent_is_not_punished(method):
    result = case_mix_adjust(*EQUAL_SKILL, method=method)
    a, b = result["A"], result["B"]
    assert b.observed - a.observed == pytest.approx(0.3)  # raw scores differ a lot
    assert a.adjusted == pytest.approx(b.adjusted, abs=0.02)
    assert a.adjusted == pytest.approx(0.75, abs=0.02)


def test_sparse_cell_is_shrunk_toward_centre_mean():
    data = build(("A", "common", 70, 100), ("B", "common", 70, 100), ("C", "rare", 0, 2))
    # the rare cell alone says 0%; with 10 pseudo-answers at the centre mean it says much more
    c = case_mix_adjust(*data, cell_prior=10.0)["C"]
    centre = 140 / 202
    assert c.expected == pytest.approx(10 * centre / 12)
    assert c.adjusted < centre  # C still pays for most of the two "no"s


@pytest.mark.parametrize("method", ["cells", "logistic"])
def test_better_agent_on_hard_queue_outranks_average_agent_on_easy_queue(method):
    data = build(
        ("A", "hard", 75, 100),  # good: 75% where peers get 60%
        ("B", "easy", 90, 100),  # average
        ("C", "hard", 30, 50),
        ("C", "easy", 45, 50),
        ("D", "hard", 30, 50),
        ("D", "easy", 45, 50),
    )
    result = case_mix_adjust(*data, method=method)
    assert result["A"].observed < result["B"].observed
    assert result["A"].adjusted > result["B"].adjusted + 0.05


@pytest.mark.parametrize("method", ["cells", "logistic"])
def test_adjustment_recovers_skill_when_good_agents_take_hard_calls(method):
    rng = np.random.default_rng(5)
    n_agents, per_agent = 40, 150
    skill = rng.normal(0, 0.5, n_agents)  # logit scale
    hard_share = np.clip(0.5 + 0.5 * skill / skill.std() * 0.5, 0, 1)  # better agents get harder calls
    agents, outcomes, queue, language = [], [], [], []
    for i in range(n_agents):
        hard = rng.random(per_agent) < hard_share[i]
        second_lang = rng.random(per_agent) < 0.2
        logit = 1.5 + skill[i] - 1.8 * hard - 0.7 * second_lang
        outcomes += list(rng.random(per_agent) < 1 / (1 + np.exp(-logit)))
        agents += [i] * per_agent
        queue += ["hard" if h else "easy" for h in hard]
        language += ["es" if s else "en" for s in second_lang]
    result = case_mix_adjust(agents, np.array(outcomes, dtype=int), {"queue": queue, "language": language}, method=method)
    raw = [result[i].observed for i in range(n_agents)]
    adjusted = [result[i].adjusted for i in range(n_agents)]
    assert spearman(raw, skill).rho < 0.3
    assert spearman(adjusted, skill).rho > 0.6


def test_no_mix_variables_leave_observed_unchanged():
    agents, outcomes, _ = EQUAL_SKILL
    result = case_mix_adjust(agents, outcomes, {})
    assert all(r.adjusted == pytest.approx(r.observed) for r in result.values())


def test_adjusted_is_clipped_to_rate_scale():
    data = build(("A", "hard", 10, 10), ("B", "hard", 0, 40), ("B", "easy", 40, 40))
    result = case_mix_adjust(*data, cell_prior=0.0)
    assert result["A"].observed - result["A"].expected + result["A"].centre > 1.0
    assert result["A"].adjusted == 1.0


@pytest.mark.parametrize(
    "agents, outcomes, mix",
    [
        (["a", "b"], [1], {}),
        (["a"], [2], {}),
        (["a", "b"], [1, 0], {"queue": ["q"]}),
        ([], [], {}),
    ],
)
def test_rejects_malformed_input(agents, outcomes, mix):
    with pytest.raises(ValueError):
        case_mix_adjust(agents, outcomes, mix)


def test_unknown_method_rejected():
    with pytest.raises(ValueError):
        case_mix_adjust(*EQUAL_SKILL, method="magic")
