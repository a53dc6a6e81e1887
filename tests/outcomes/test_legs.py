"""Each leg rule on hand-built calls: truncation, the cap, repeat calls, call outcomes."""
from datetime import timedelta

from scoring.outcomes.classify import classify_calls, classify_legs, truncation_thresholds
from tests.outcomes.builder import T0, agents, call, handled, rules

DAY = timedelta(days=1)


def _by_call(outcomes):
    return {o.call_sid: o for o in outcomes}


def test_truncation_and_cap_rules(db_session):
    s = db_session
    agents(s, "ann", "bob")
    r = rules(truncated={"short_talk_seconds": 40})
    short = call(s, visits=[handled("ann", talk=25)])
    short_by_caller = call(s, visits=[handled("ann", talk=25, ended_by="caller")])
    long_said_no = call(s, visits=[handled("bob", talk=300, survey={"adequate": 2, "satisfaction": 2})])
    long_said_yes = call(s, visits=[handled("bob", talk=300, survey={"adequate": 1})])
    at_cap = call(s, visits=[handled("ann", talk=770)])
    over_cap = call(s, visits=[handled("ann", talk=781)])
    cap_by_caller = call(s, visits=[handled("ann", talk=770, ended_by="caller")])
    out = _by_call(classify_legs(s, T0, T0 + DAY, r))
    assert out[short.sid].truncated is True and out[short.sid].threshold.source == "configured"
    assert out[short_by_caller.sid].truncated is False
    # "Not answered adequately" lowers the adequacy score; it does not make a long call truncated.
    assert out[long_said_no.sid].truncated is False and out[long_said_no.sid].adequate is False
    assert out[long_said_yes.sid].truncated is False and out[long_said_yes.sid].adequate is True
    assert [out[c.sid].cap_cut for c in (at_cap, over_cap, cap_by_caller)] == [True, False, False]
    assert not out[short.sid].survey_reached and out[long_said_no.sid].survey_reached


def test_auto_threshold_is_the_low_quantile_of_caller_ended_calls(db_session):
    s = db_session
    agents(s, "ann")
    r = rules(truncated={"auto_min_calls": 10, "auto_quantile": 0.2})
    for talk in range(10, 110, 10):  # 10 caller-ended billing calls: 10..100 s
        call(s, visits=[handled("ann", talk=talk, ended_by="caller")])
    call(s, visits=[handled("ann", talk=15, ended_by="caller", queue="tech")])
    cut = call(s, visits=[handled("ann", talk=19)])
    kept = call(s, visits=[handled("ann", talk=20)])
    tech = call(s, visits=[handled("ann", talk=19, queue="tech")])
    th = truncation_thresholds(s, T0, T0 + DAY, r)
    assert th["billing"].seconds == 20 and th["billing"].calls == 10
    assert "tech" not in th and th[None].source == "centre"  # 1 tech call: falls back to the centre's 20th pct
    out = _by_call(classify_legs(s, T0, T0 + DAY, r))
    assert out[cut.sid].truncated is True and out[kept.sid].truncated is False
    assert out[tech.sid].truncated is True and out[tech.sid].threshold.source == "centre"
    few = rules(truncated={"auto_min_calls": 100, "fallback_seconds": 30})
    assert truncation_thresholds(s, T0, T0 + DAY, few)[None].source == "fallback"


def test_repeat_call_costs_the_last_handling_agent_first_contact_resolution(db_session):
    s = db_session
    agents(s, "ann", "bob")
    first = call(s, T0, number="+15551110001",
                 visits=[handled("ann", talk=60), {"reason": "transfer-back", **handled("bob", talk=90)}])
    again = call(s, T0 + timedelta(hours=71), number="+15551110001")
    lone = call(s, T0, number="+15551110002", visits=[handled("ann")])
    call(s, T0 + timedelta(hours=73), number="+15551110002")  # outside the 72 h window
    hidden = call(s, T0, number="anonymous", visits=[handled("ann")])
    call(s, T0 + timedelta(hours=1), number="anonymous")
    unclosed = call(s, T0, number="+15551110003", visits=[handled("ann")])
    call(s, T0 + timedelta(hours=1), number="+15551110003", time_source="server")  # no Twilio time yet
    legs = classify_legs(s, T0, T0 + DAY, rules())
    flagged = {(o.call_sid, o.agent_id): o for o in legs if o.repeat_call_sid}
    assert list(flagged) == [(first.sid, "bob")]
    assert flagged[(first.sid, "bob")].repeat_call_sid == again.sid
    assert flagged[(first.sid, "bob")].repeat_gap_seconds == 71 * 3600
    assert {lone.sid, hidden.sid, unclosed.sid}.isdisjoint(c for c, _ in flagged)
    shorter = rules(repeat={"window_hours": 24})
    assert not [o for o in classify_legs(s, T0, T0 + DAY, shorter) if o.repeat_call_sid]


def test_call_and_leg_outcomes(db_session):
    s = db_session
    agents(s, "ann", "bob")
    ivr = call(s)
    queue_gone = call(s, visits=[{"state": "abandoned", "wait": 95}])
    rona = call(s, visits=[handled("ann", dial="no-answer"), handled("bob", talk=40, ended_by="caller")])
    ring_gone = call(s, visits=[handled("ann", dial="canceled")])
    dropped = call(s, visits=[{"state": "failed"}, {"state": "failed", "reason": "retry"}])
    error = call(s, status="failed")
    closed = call(s, after_hours=True)
    live = call(s, status="in-progress", visits=[{"state": "waiting"}])
    outcomes = {c.call_sid: c for c in classify_calls(s, T0, T0 + DAY)}
    assert {sid: outcomes[sid].outcome for sid in (ivr.sid, queue_gone.sid, rona.sid, ring_gone.sid, dropped.sid,
                                                   error.sid, closed.sid, live.sid)} == {
        ivr.sid: "ivr-abandoned", queue_gone.sid: "queue-abandoned", rona.sid: "handled",
        ring_gone.sid: "queue-abandoned", dropped.sid: "failed", error.sid: "failed", closed.sid: "after-hours",
        live.sid: "in-progress"}
    assert outcomes[queue_gone.sid].queue_wait_seconds == 95
    legs = [(o.agent_id, o.outcome, o.ended_by) for o in classify_legs(s, T0, T0 + DAY, rules())
            if o.call_sid == rona.sid]
    assert legs == [("ann", "no-answer", None), ("bob", "handled", "caller")]
