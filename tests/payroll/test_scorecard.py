"""Scorecards from stored calls: shrinkage and intervals, case mix, FCR, tiers, trace."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from scipy import stats

from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import ScoringConfig
from scoring.scorecards.drilldown import agent_trend, trace
from scoring.scorecards.statistics import INSUFFICIENT, team_summary
from store.flags import Flag
from tests.payroll.conftest import OCT, T0


def by_id(cards):
    return {c.agent_id: c for c in cards}


def test_shrinkage_and_interval_match_hand_computation(build, db_session):
    # Two agents (< 5): the prior is the pooled mean (10 + 0.5) / (20 + 1) = 0.5 with strength 10.
    build.agent("a"), build.agent("b")
    build.answers("a", 8, 2)
    build.answers("b", 2, 8)
    cards = by_id(build_scorecards(db_session, *OCT))
    a = cards["a"].adequacy
    assert a.raw == pytest.approx(0.8) and a.n == 10
    assert a.mean == pytest.approx((8 + 5) / (10 + 10))               # 0.65
    assert (a.low, a.high) == pytest.approx((stats.beta.ppf(0.05, 13, 7), stats.beta.ppf(0.95, 13, 7)))
    assert cards["b"].adequacy.mean == pytest.approx(0.35)
    # Top-2-box: ratings 5 on the "yes" calls, 2 on the "no" calls.
    assert cards["a"].csat.raw == pytest.approx(0.8) and cards["a"].csat.mean == pytest.approx(0.65)
    # Mean rating: Bayesian average with 10 pseudo-answers at the centre mean 3.5.
    assert cards["a"].mean_rating.mean == pytest.approx((8 * 5 + 2 * 2 + 10 * 3.5) / 20)


def test_small_samples_are_insufficient_and_unranked(build, db_session):
    for agent in "abc":
        build.agent(agent)
    build.answers("a", 18, 4)
    build.answers("b", 12, 10)
    build.answers("c", 3, 0)                  # 100% raw, but 3 answers
    cards = build_scorecards(db_session, *OCT)
    c = by_id(cards)["c"]
    assert c.insufficient and c.rank is None and c.tier == INSUFFICIENT
    # No flat rate (pay rule 2026-12-p2): paid on the estimate shrunk toward the lowest paying
    # level, 3/3 "yes" -> (3 + 20 * 0.6) / 23 = 0.652 on every part, less the margin of the 84 %
    # bound (posterior variance m(1 - m)/24, weights 0.5/0.3/0.2): 59.3, under bronze's 60.
    m = 15 / 23
    margin = 100 * stats.norm.ppf(0.84) * math.sqrt(0.38 * m * (1 - m) / 24)
    assert c.composite.margin == pytest.approx(margin)
    assert c.composite.score == pytest.approx(100 * m - margin, abs=1e-4)
    assert c.multiplier == 0.0 and c.pay_reason == "insufficient"
    assert [x.agent_id for x in cards] == ["a", "b", "c"]
    assert by_id(cards)["a"].rank == 1 and by_id(cards)["b"].rank == 2
    assert c.adequacy.mean < 0.9              # pulled toward the centre, not 1.0


def test_case_mix_credits_the_hard_queue(build, db_session):
    for agent in ("easy", "hard", "both"):
        build.agent(agent)
    build.answers("easy", 16, 4, queue="billing")
    build.answers("hard", 8, 12, queue="tech")
    build.answers("both", 16, 4, queue="billing", start=T0 + timedelta(days=1))
    build.answers("both", 8, 12, queue="tech", start=T0 + timedelta(days=2))
    cards = by_id(build_scorecards(db_session, *OCT))
    hard = cards["hard"].case_mix["adequacy"]
    # Centre 48/80 = 0.6; tech cell (16 + 10*0.6)/(40 + 10) = 0.44; 0.4 - 0.44 + 0.6 = 0.56.
    assert hard.observed == pytest.approx(0.4)
    assert hard.expected == pytest.approx(0.44)
    assert hard.adjusted == pytest.approx(0.56)
    assert cards["easy"].case_mix["adequacy"].adjusted == pytest.approx(0.8 - 0.76 + 0.6)
    # Without case mix the tech-only agent is 40 points behind; with it, 8.
    plain = by_id(build_scorecards(db_session, *OCT, config=ScoringConfig(case_mix=())))
    assert plain["hard"].case_mix["adequacy"].adjusted == pytest.approx(0.4)
    assert cards["easy"].adequacy.mean - cards["hard"].adequacy.mean < \
        plain["easy"].adequacy.mean - plain["hard"].adequacy.mean


def test_fcr_counts_repeat_calls_within_the_window(build, db_session):
    build.agent("a"), build.agent("b")
    first = build.call("a", at=T0, from_number="+15550000001")
    again = build.call("b", at=T0 + timedelta(hours=10), from_number="+15550000001")   # repeat of a's call
    build.call("b", at=T0 + timedelta(hours=90), from_number="+15550000001")           # 80 h later: not one
    build.call("a", at=T0, from_number="anonymous")                                     # unidentifiable
    build.call("a", at=T0 + timedelta(hours=1), from_number="anonymous")
    build.call("a", at=T0 + timedelta(hours=2))
    cards = by_id(build_scorecards(db_session, *OCT))
    assert cards["a"].fcr.n == 2 and cards["a"].fcr.raw == pytest.approx(0.5)
    assert cards["b"].fcr.n == 2 and cards["b"].fcr.raw == pytest.approx(1.0)
    assert cards["a"].handled == 4
    rows = trace(db_session, "a", *OCT, "fcr")
    assert [(r["call_sid"], r["repeat"], r["repeat_call_sid"]) for r in rows if r["repeat"]] == [(first, True, again)]


def test_confirmed_flags_penalise_and_calls_per_shift_never_scores(build, db_session):
    build.agent("a"), build.agent("b")
    build.answers("a", 20, 5)
    build.answers("b", 20, 5)
    for k in range(4):   # b also handled 4 extra unsurveyed calls the same day: volume only
        build.call("b", at=T0 + timedelta(hours=5, minutes=k))
    sid = build.call("a", at=T0 + timedelta(hours=6))
    for state, kind in (("confirmed", "truncated"), ("dismissed", "cap-cut"), ("confirmed", "repeat-call")):
        db_session.add(Flag(key=f"{kind}:{state}", kind=kind, call_sid=sid, agent_id="a", occurred_at=T0,
                            reason="test", evidence={}, rule_version="t", state=state))
    db_session.flush()
    cards = by_id(build_scorecards(db_session, *OCT))
    assert cards["a"].confirmed_flags == {"truncated": 1, "repeat-call": 1}
    assert cards["a"].composite.penalty == pytest.approx(1.0 * 100 / 26)   # only the penalised kind: its one call
    assert cards["b"].calls_per_shift > cards["a"].calls_per_shift
    assert cards["b"].composite.penalty == 0
    assert [f["kind"] for f in trace(db_session, "a", *OCT, "confirmed_flags")] == ["truncated", "repeat-call"]


def test_a_confirmed_early_hangup_finding_lowers_the_composite(build, db_session):
    for agent in "abc":
        build.agent(agent)
        build.answers(agent, 20, 5)
    month = (datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
    evidence = {"legs": 25, "observed": 7, "expected": 1.5, "leg_ids": [1, 2, 3, 4, 5, 6, 7]}
    for agent, kind, state in (("a", "early-hangup", "confirmed"), ("b", "early-hangup", "open"),
                               ("c", "repeat-calls", "confirmed")):
        db_session.add(Flag(key=f"{kind}:agent:{agent}:2026-10", kind=kind, agent_id=agent, occurred_at=month[0],
                            period_end=month[1], reason="test", evidence=evidence, rule_version="t", state=state))
    db_session.flush()
    cards = by_id(build_scorecards(db_session, *OCT))
    # In proportion to the calls it covers: 7 found where peers give 1.5, 5.5 of 25 calls.
    assert cards["a"].covered_calls == pytest.approx(5.5)
    assert cards["a"].composite.penalty == pytest.approx(1.0 * 100 * 5.5 / 25)
    assert cards["a"].composite.score == pytest.approx(cards["b"].composite.score - 22.0)
    assert cards["b"].composite.penalty == 0                                        # open: unproven
    assert cards["c"].composite.penalty == 0 and cards["c"].confirmed_flags == {"repeat-calls": 1}   # FCR prices it


def test_team_filter_summary_trend_and_trace(build, db_session):
    build.agent("a", team="red"), build.agent("b", team="blue")
    build.answers("a", 15, 5)
    build.answers("a", 5, 5, start=T0 + timedelta(days=7))
    build.answers("b", 10, 10)
    everyone = by_id(build_scorecards(db_session, *OCT))
    red = build_scorecards(db_session, *OCT, team="red")
    assert [c.agent_id for c in red] == ["a"]
    assert red[0].adequacy == everyone["a"].adequacy            # same numbers in a team view
    summary = {t.team: t for t in team_summary(list(everyone.values()))}
    assert summary["red"].adequacy.raw == pytest.approx(20 / 30) and summary["red"].surveys_completed == 30
    trend = agent_trend(db_session, "a", *OCT)
    assert [p["adequacy"]["n"] for p in trend] == [20, 10]
    assert trend[0]["bucket_start"].startswith("2026-10-05T00:00:00+03:00")
    assert trend[0]["adequacy"]["mean"] > trend[1]["adequacy"]["mean"]
    adequacy_rows = trace(db_session, "a", *OCT, "adequacy")
    assert len(adequacy_rows) == 30 and sum(r["success"] for r in adequacy_rows) == 20
    assert all("from_number" not in r for r in adequacy_rows)
    assert len(trace(db_session, "a", *OCT, "surveys_completed")) == 30
    with pytest.raises(ValueError, match="metric must be one of"):
        trace(db_session, "a", *OCT, "calls_per_shift")


def test_aggregate_cells_adjustment_equals_answer_level_casemix():
    from scoring.scorecards.statistics import _adjust, _adjust_answers
    cells = [("a", ("billing", "en", "menu", "call"), 30, 24), ("a", ("tech", "ru", "menu", "call"), 5, 1),
             ("b", ("tech", "en", "menu", "call"), 40, 18), ("b", ("tech", "ru", "transfer-back", "sms"), 7, 2),
             ("c", ("billing", "en", "menu", "call"), 12, 11), ("c", ("sales", "en", "default", "call"), 0, 0)]
    cfg = ScoringConfig()
    fast, reference = _adjust(cells, cfg), _adjust_answers([c for c in cells if c[2]], cfg)
    assert fast.keys() == reference.keys()
    for agent in fast:
        assert fast[agent].adjusted == pytest.approx(reference[agent].adjusted)
        assert fast[agent].expected == pytest.approx(reference[agent].expected)
    logistic = _adjust(cells, ScoringConfig(case_mix_method="logistic"))
    assert logistic["b"].adjusted > logistic["b"].observed     # b's hard tech/ru mix is credited
