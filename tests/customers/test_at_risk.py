"""Callers at risk (scoring.customers): the index and its shrinkage, each factor with its evidence,
the order, the window's edges and callers with no answers, on SQLite and PostgreSQL."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scoring.customers import assess, index_points, shrunk_index
from scoring.scorecards.config import AtRiskConfig, ScoringConfig, parse_config
from store.callbacks import CallbackTask
from store.calls import SurveyAnswer
from tests.outcomes.builder import T0, agents, call, handled, rules

NOW = T0 + timedelta(days=10)
RULES = rules()          # SLA 20 s, short abandons under 5 s, repeat window 72 h
CONFIG = ScoringConfig()
YES, NO = {"adequate": 1, "satisfaction": 5}, {"adequate": 2, "satisfaction": 1}


def run(database, config=CONFIG, now=NOW):
    with database.session() as s:
        return assess(s, now=now, config=config, rules=RULES)


def everyone(min_score=0.01, **points):
    base = AtRiskConfig()
    weights = {**dict(base.points), **points}
    return replace(CONFIG, at_risk=replace(base, min_score=min_score, points=tuple(weights.items())))


def by_number(result):
    return {c.number: c for c in result.callers}


def test_the_index_is_the_share_of_good_answers_pulled_toward_the_centre():
    assert shrunk_index(0, 0, 0.8, 4) is None                     # no answers: unknown, not unhappy
    assert shrunk_index(2, 2, None, 4) == 1.0                     # no centre figure: the raw share
    assert shrunk_index(0, 1, 0.8, 4) == pytest.approx(3.2 / 5)   # one "no": still near the centre
    assert shrunk_index(0, 40, 0.8, 4) == pytest.approx(3.2 / 44)  # forty: the caller's own figure
    assert shrunk_index(3, 4, 0.5, 0) == 0.75
    assert index_points(None, 0.8, 3) == 0 and index_points(0.9, 0.8, 3) == 0 and index_points(0.8, 0.8, 3) == 0
    assert index_points(0.0, 0.8, 3) == pytest.approx(3) and index_points(0.4, 0.8, 3) == pytest.approx(1.5)
    assert index_points(0.0, 0.0, 3) == 0 and index_points(0.0, None, 3) == 0


def test_index_counts_every_channel_and_both_questions(database):
    with database.session() as s:
        agents(s, "ann")
        # The centre: 6 good answers of 8 -> 0.75.
        a = call(s, T0, number="+15550000001", visits=[handled("ann", survey=YES)])
        b = call(s, T0 + timedelta(days=5), number="+15550000001", visits=[handled("ann", survey={"adequate": 2})])
        call(s, T0, number="+15550000002", visits=[handled("ann", survey=YES)])
        call(s, T0, number="+15550000003", visits=[handled("ann", survey={**YES, "anything_else": 2})])
        call(s, T0, number="+15550000004", visits=[handled("ann", survey={"satisfaction": 3})])
        for answer in s.query(SurveyAnswer).filter(SurveyAnswer.call_sid == b.sid):
            answer.channel = "sms"
        assert a.sid
    result = run(database, everyone(min_score=0.0001))
    assert result.centre_index == pytest.approx(6 / 8)
    first = by_number(result)["+15550000001"]
    assert (first.answers, first.good, first.calls) == (3, 2, 2)
    assert first.raw_index == pytest.approx(2 / 3)
    assert first.index == pytest.approx((2 + 4 * 0.75) / (3 + 4))
    assert first.key == b.sid                       # the latest call is the caller's handle


def test_each_factor_is_counted_with_its_evidence(database):
    with database.session() as s:
        agents(s, "ann")
        no = call(s, T0, number="+100001", visits=[handled("ann", survey={"adequate": 2})])
        again = call(s, T0 + timedelta(hours=5), number="+100001", visits=[handled("ann")])          # repeat
        later = call(s, T0 + timedelta(days=4), number="+100001", visits=[handled("ann")])           # > 72 h: not
        back = call(s, T0, number="+100002", visits=[handled("ann", survey={"anything_else": 1})])
        gone = call(s, T0, number="+100003", visits=[{"state": "abandoned", "wait": 40}])
        call(s, T0, number="+100004", visits=[{"state": "abandoned", "wait": 3}])                     # short: not
        slow = call(s, T0, number="+100005", visits=[handled("ann", wait=21)])
        call(s, T0, number="+100006", visits=[handled("ann", wait=20)])                               # at the SLA: not
        tasks = {}
        for n, state, due in (("+100007", "open", NOW + timedelta(hours=1)), ("+100008", "called", NOW - timedelta(hours=1)),
                              ("+100009", "not-reached", NOW + timedelta(days=1)), ("+100010", "declined", NOW),
                              ("+100011", "resolved", NOW - timedelta(days=3))):
            c = call(s, T0, number=n, visits=[handled("ann")])
            task = CallbackTask(leg_id=c.legs[0].id, call_sid=c.sid, agent_id="ann", team="red", caller_number=n,
                                reason="adequacy-no", state=state, note="", due_at=due, opened_at=T0, updated_at=T0)
            s.add(task)
            s.flush()
            tasks[n] = f"task:{task.id}"
        assert later.sid
    found = {c.number: c.evidence for c in run(database, everyone()).callers}
    assert found["+100001"] == {"unresolved": [no.sid], "repeat_call": [again.sid]}
    assert found["+100002"] == {"transfer_back": [back.sid]}
    assert found["+100003"] == {"abandoned": [gone.sid]}
    assert found["+100005"] == {"long_wait": [slow.sid]}
    assert found["+100007"] == {"task_open": [tasks["+100007"]]}
    assert found["+100008"] == {"task_overdue": [tasks["+100008"]]}
    assert found["+100009"] == {"task_failed": [tasks["+100009"]]}
    assert found["+100010"] == {"task_failed": [tasks["+100010"]]}
    for quiet in ("+100004", "+100006", "+100011"):
        assert quiet not in found


def test_the_riskiest_first_with_the_score_from_the_settings(database):
    with database.session() as s:
        agents(s, "ann")
        for k in range(3):        # three "no" and a repeat: 2+2+2 + 1 + index points
            call(s, T0 + timedelta(hours=k), number="+200001", visits=[handled("ann", survey=NO)])
        call(s, T0, number="+200002", visits=[handled("ann", survey=NO)])                  # one "no"
        call(s, T0 + timedelta(days=1), number="+200003", visits=[{"state": "abandoned", "wait": 60}])
        call(s, T0 + timedelta(days=5), number="+200003", visits=[{"state": "abandoned", "wait": 60}])  # no repeat
        call(s, T0 + timedelta(days=2), number="+200004", visits=[{"state": "abandoned", "wait": 60}])
        call(s, T0, number="+200005", visits=[handled("ann", survey=YES)])                 # happy: no risk
        call(s, T0, number="anonymous", visits=[handled("ann", survey=NO)])            # nobody in particular
    result = run(database)
    order = [c.number for c in result.callers]
    assert order == ["+200001"]          # min_score 4: one "no" (2 points and the index's) is not enough
    top = result.callers[0]
    assert top.reasons == [("unresolved", 3), ("repeat_call", 2)]
    centre = result.centre_index
    index = (0 + 4 * centre) / (6 + 4)
    assert top.score == pytest.approx(3 * 2 + 2 * 1 + 3 * (centre - index) / centre, abs=0.01)
    looser = run(database, everyone(min_score=1.0))
    ranked = [c.number for c in looser.callers]
    assert ranked[:2] == ["+200001", "+200002"] and ranked[2:] == ["+200003", "+200004"]
    assert "+200005" not in ranked and "anonymous" not in ranked
    assert looser.assessed == 5


def test_equal_scores_put_the_most_recent_call_first(database):
    with database.session() as s:
        call(s, T0, number="+210001", visits=[{"state": "abandoned", "wait": 60}])
        call(s, T0 + timedelta(days=1), number="+210002", visits=[{"state": "abandoned", "wait": 60}])
        call(s, T0 + timedelta(days=1), number="+210003", visits=[{"state": "abandoned", "wait": 60}])
    assert [c.number for c in run(database, everyone()).callers] == ["+210002", "+210003", "+210001"]


def test_the_window_is_half_open_back_from_now(database):
    window = CONFIG.at_risk.window_days
    with database.session() as s:
        agents(s, "ann")
        call(s, NOW - timedelta(days=window), number="+300001", visits=[handled("ann", survey=NO)])        # first instant
        call(s, NOW - timedelta(days=window, seconds=1), number="+300002", visits=[handled("ann", survey=NO)])
        call(s, NOW, number="+300003", visits=[handled("ann", survey=NO)])                                  # now: not yet
    result = run(database, everyone())
    assert [c.number for c in result.callers] == ["+300001"]
    assert result.end - result.start == timedelta(days=window)


def test_a_repeat_counts_when_the_first_call_was_just_before_the_window(database):
    window = CONFIG.at_risk.window_days
    start = NOW - timedelta(days=window)
    with database.session() as s:
        agents(s, "ann")
        call(s, start - timedelta(hours=2), number="+400001", visits=[handled("ann")])
        again = call(s, start + timedelta(hours=1), number="+400001", visits=[handled("ann")])
    (only,) = run(database, everyone()).callers
    assert only.evidence == {"repeat_call": [again.sid]} and only.calls == 1


def test_a_caller_with_no_answers_has_no_index_and_is_judged_on_factors_alone(database):
    with database.session() as s:
        for k in range(4):      # four days apart: no repeat calls
            call(s, T0 + timedelta(days=4 * k - 3), number="+500001", visits=[{"state": "abandoned", "wait": 30}])
        for k in range(3):
            call(s, T0 + timedelta(days=4 * k - 1), number="+500002", visits=[{"state": "abandoned", "wait": 30}])
    (only,) = run(database).callers      # three abandons are three points, under the default four
    assert only.number == "+500001" and only.index is None and only.raw_index is None and only.answers == 0
    assert only.score == 4.0 and only.reasons == [("abandoned", 4)]


def test_nothing_in_the_window_is_an_empty_list(database):
    result = run(database)
    assert result.callers == [] and result.assessed == 0 and result.centre_index is None


def test_settings_are_checked():
    assert parse_config({}).at_risk == AtRiskConfig()
    custom = parse_config({"at_risk": {"window_days": 7, "points": {"long_wait": 0}}}).at_risk
    assert custom.window_days == 7 and custom.weight("long_wait") == 0 and custom.weight("unresolved") == 2
    for bad in ({"window_days": 0}, {"window_days": 1.5}, {"min_score": 0}, {"points": {"rude": 1}},
                {"points": {"abandoned": -1}}, {"colour": "red"}, {"points": 3}):
        with pytest.raises(ValueError, match="at_risk"):
            parse_config({"at_risk": bad})
