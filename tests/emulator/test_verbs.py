"""Each TwiML verb as Twilio runs it, against scripted toy apps."""

import email.utils
from datetime import timedelta

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from emulator.scenario import AgentSpec

from .conftest import EPOCH, callers as make_callers, make_scenario


def doc(*verbs) -> str:
    r = VoiceResponse()
    for v in verbs:
        r.append(v)
    return str(r)


def paths(log):
    return [e["path"] for e in log]


def test_say_and_pause_take_simulated_time_reported_in_completed_callback(drive):
    def voice(f):
        r = VoiceResponse()
        r.say("one two three four five")   # 5 words at 2.5 words/s
        r.pause(length=7)
        r.pause(length=3600)               # an hour of simulated time, no real sleeping
        return str(r)

    result, log = drive({"/voice": voice})
    call = result.truth[0]
    assert call.duration_s == pytest.approx(3609.0)
    assert call.end_reason == "end-of-document"
    assert result.wall_s < 5
    first = log[0]["form"]
    assert first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert first["CallSid"] == call.call_sid and first["From"] == call.from_number
    assert first["AccountSid"].startswith("AC") and first["ApiVersion"] == "2010-04-01"
    status = [e["form"] for e in log if e["path"] == "/status"]
    assert len(status) == 1
    assert status[0]["CallStatus"] == "completed" and status[0]["CallDuration"] == "3609"
    assert status[0]["SequenceNumber"] == "0" and status[0]["CallbackSource"] == "call-progress-events"
    stamp = email.utils.parsedate_to_datetime(status[0]["Timestamp"])
    assert abs((stamp - (EPOCH + timedelta(seconds=call.start_s + 3609))).total_seconds()) <= 1


def test_gather_posts_digits_to_relative_action_urls(drive):
    callers = make_callers(language={"2": 1.0}, menu={"3": 1.0}, wrong_key=0, silence=0, ivr_hangup=0)
    routes = {
        "/voice": lambda f: doc(Gather(num_digits=1, action="ivr/lang")),
        "/ivr/lang": lambda f: doc(Gather(action="../menu?step=2")),   # no numDigits: caller ends with '#'
        "/menu": lambda f: doc(),
    }
    result, log = drive(routes, make_scenario(callers=callers))
    by_path = {e["path"]: e for e in log}
    assert by_path["/ivr/lang"]["form"]["Digits"] == "2"
    assert by_path["/ivr/lang"]["form"]["FinishedOnKey"] == ""
    assert by_path["/menu"]["form"]["Digits"] == "3" and by_path["/menu"]["form"]["FinishedOnKey"] == "#"
    assert by_path["/menu"]["args"] == {"step": "2"}
    assert result.truth[0].language == "2" and result.truth[0].menu_keys == ["3"]


def test_gather_without_action_posts_to_the_current_document(drive):
    seen = []

    def voice(f):
        seen.append(f.get("Digits"))
        return doc(Gather(num_digits=1)) if len(seen) == 1 else doc()

    drive({"/voice": voice})
    assert seen == [None, "1"]


@pytest.mark.parametrize("on_empty", [False, True])
def test_gather_without_input_runs_next_verb_or_posts_empty_result(drive, on_empty):
    callers = make_callers(language={"1": 1.0}, menu={"1": 1.0}, silence=1.0, wrong_key=0, ivr_hangup=0)
    menu = Gather(num_digits=1, action="/chosen", timeout=4, action_on_empty_result=on_empty)
    menu.say("one two three four five")
    lang = VoiceResponse()
    lang.append(menu)
    lang.redirect("/after")
    routes = {
        "/voice": lambda f: doc(Gather(num_digits=1, action="/lang")),
        "/lang": lambda f: str(lang),
        "/chosen": lambda f: doc(),
        "/after": lambda f: doc(),
    }
    result, log = drive(routes, make_scenario(callers=callers))
    if on_empty:
        chosen = [e for e in log if e["path"] == "/chosen"]
        assert chosen and chosen[0]["form"]["Digits"] == ""
        assert "/after" not in paths(log)
    else:
        assert "/chosen" not in paths(log) and "/after" in paths(log)


def test_redirect_get_puts_parameters_in_the_signed_query(drive):
    r = VoiceResponse()
    r.redirect("/next?a=b", method="GET")
    result, log = drive({"/voice": lambda f: str(r), "/next": lambda f: doc()})
    nxt = [e for e in log if e["path"] == "/next"][0]
    assert nxt["method"] == "GET" and nxt["args"]["a"] == "b"
    assert nxt["args"]["CallSid"] == result.truth[0].call_sid and nxt["signature_ok"]


def test_hangup_ends_the_call_and_later_verbs_never_run(drive):
    r = VoiceResponse()
    r.say("bye")
    r.hangup()
    r.redirect("/never")
    result, log = drive({"/voice": lambda f: str(r), "/never": lambda f: doc()})
    assert "/never" not in paths(log)
    assert result.truth[0].end_reason == "app-hangup"


def test_every_request_is_signed_verifiably(drive):
    r = VoiceResponse()
    r.redirect("/a?x=1#rc=0")
    result, log = drive({"/voice": lambda f: str(r), "/a": lambda f: doc()})
    assert log and all(e["signature_ok"] for e in log)
    assert [e["url"] for e in log if e["path"] == "/a"] == ["http://localhost/a?x=1"]


def _queue_routes(wait, done_log):
    def done(f):
        done_log.append(f)
        return doc()
    r = VoiceResponse()
    r.enqueue("support", wait_url="wait", action="done")
    return {"/voice": lambda f: str(r), "/wait": wait, "/done": done}


def test_enqueue_loops_wait_url_until_leave_then_action_gets_leave(drive):
    waits, done = [], []

    def wait(f):
        waits.append(f)
        r = VoiceResponse()
        if int(f["QueueTime"]) >= 30:
            r.leave()
        else:
            r.pause(length=10)
        return str(r)

    callers = make_callers(language={"1": 1.0}, menu={"1": 1.0}, patience_mean_s=1e9)
    result, log = drive(_queue_routes(wait, done), make_scenario(callers=callers))
    assert [w["QueueTime"] for w in waits] == ["0", "10", "20", "30"]
    assert {w["QueuePosition"] for w in waits} == {"1"} and waits[0]["CurrentQueueSize"] == "1"
    assert waits[0]["MaxQueueSize"] == "1000" and waits[0]["QueueSid"].startswith("QU")
    assert "AvgQueueTime" in waits[0]
    assert done[0]["QueueResult"] == "leave" and done[0]["QueueTime"] == "30"
    assert done[0]["CallStatus"] == "in-progress"
    assert result.truth[0].queues == ["support"] and not result.truth[0].abandoned_in_queue


def test_caller_out_of_patience_hangs_up_in_queue_and_action_gets_hangup(drive):
    done = []
    wait = lambda f: doc(VoiceResponse().pause(length=10))
    callers = make_callers(language={"1": 1.0}, menu={"1": 1.0}, patience_mean_s=60)
    result, log = drive(_queue_routes(wait, done), make_scenario(callers=callers))
    call = result.truth[0]
    assert call.abandoned_in_queue and call.end_reason == "caller-hangup"
    assert done[0]["QueueResult"] == "hangup" and done[0]["CallStatus"] == "completed"
    assert int(done[0]["QueueTime"]) == int(call.duration_s)
    assert paths(log)[-2:] == ["/done", "/status"]


def _dial_routes(dial: Dial, actions: list, survey=True):
    def dialed(f):
        actions.append(f)
        return doc(Gather(num_digits=1, action="/q1")) if survey else doc()
    r = VoiceResponse()
    r.append(dial)
    return {"/voice": lambda f: str(r), "/dialed": dialed, "/q1": lambda f: doc()}


def _client_dial(**kw):
    d = Dial(action="/dialed", timeout=20, **kw)
    d.client("ann")
    return d


def test_agent_hangs_up_first_dial_action_in_progress_then_survey(drive):
    actions = []
    agent = AgentSpec(id="ann", quality=0.9, talk_median_s=120)
    callers = make_callers(language={"1": 1.0}, menu={"1": 1.0}, linger_s=(100, 200), survey_response_rate=1.0)
    result, log = drive(_dial_routes(_client_dial(), actions), make_scenario(agents=[agent], callers=callers))
    leg = result.truth[0].legs[0]
    assert actions[0]["CallStatus"] == "in-progress"
    assert actions[0]["DialCallStatus"] == "completed" and actions[0]["DialBridged"] == "true"
    assert actions[0]["DialCallDuration"] == str(int(round(leg.talk_s)))
    assert actions[0]["DialCallSid"].startswith("CA") and actions[0]["DialCallSid"] != result.truth[0].call_sid
    assert leg.hung_up_by == "agent" and not leg.cut_short and leg.agent_id == "ann"
    q1 = [e["form"] for e in log if e["path"] == "/q1"]
    assert q1 and q1[0]["Digits"] == leg.survey[0] and leg.survey[0] in ("1", "2")


def test_caller_hangs_up_first_dial_action_completed_and_no_survey(drive):
    actions = []
    agent = AgentSpec(id="ann", behaviour="survey_dodger", talk_median_s=120)
    result, log = drive(_dial_routes(_client_dial(), actions), make_scenario(agents=[agent]))
    leg = result.truth[0].legs[0]
    assert actions[0]["CallStatus"] == "completed" and actions[0]["DialCallStatus"] == "completed"
    assert leg.hung_up_by == "caller" and leg.survey == []
    assert "/q1" not in paths(log)
    assert result.truth[0].end_reason == "caller-hangup"


def test_dial_action_after_caller_hangup_can_be_suppressed(drive):
    actions = []
    agent = AgentSpec(id="ann", behaviour="survey_dodger")
    scenario = make_scenario(agents=[agent])
    scenario.faults.dial_action_on_caller_hangup = 0.0
    drive(_dial_routes(_client_dial(), actions), scenario)
    assert actions == []


def test_no_answer_rings_for_the_dial_timeout(drive):
    actions = []
    agent = AgentSpec(id="ann", answer_prob=0.0)
    result, log = drive(_dial_routes(_client_dial(), actions, survey=False), make_scenario(agents=[agent]))
    assert actions[0]["DialCallStatus"] == "no-answer" and actions[0]["DialBridged"] == "false"
    assert actions[0]["CallStatus"] == "in-progress" and "DialCallDuration" not in actions[0]
    assert result.truth[0].duration_s == pytest.approx(20.0)
    assert result.truth[0].legs[0].dial_status == "no-answer"


def test_dial_number_reaches_the_agent_with_that_phone(drive):
    actions = []
    d = Dial(action="/dialed")
    d.number("+15550001111")
    agent = AgentSpec(id="bob", phone="+15550001111", behaviour="survey_dodger")
    result, _ = drive(_dial_routes(d, actions), make_scenario(agents=[agent]))
    assert result.truth[0].legs[0].agent_id == "bob" and actions[0]["DialCallStatus"] == "completed"


def test_cap_cutter_ends_a_few_seconds_before_the_cap(drive):
    actions = []
    agent = AgentSpec(id="ann", behaviour="cap_cutter", talk_median_s=3000, talk_sigma=0.01)
    result, _ = drive(_dial_routes(_client_dial(), actions), make_scenario(agents=[agent]))
    leg = result.truth[0].legs[0]
    assert 768 <= int(actions[0]["DialCallDuration"]) <= 778
    assert actions[0]["CallStatus"] == "in-progress"
    assert leg.cut_short and leg.cut_reason == "cap" and leg.hung_up_by == "agent" and not leg.resolved


def test_early_hangup_cuts_before_the_need_is_met(drive):
    actions = []
    agent = AgentSpec(id="ann", behaviour="early_hangup", early_prob=1.0, talk_median_s=300)
    result, _ = drive(_dial_routes(_client_dial(), actions), make_scenario(agents=[agent]))
    leg = result.truth[0].legs[0]
    assert leg.cut_short and leg.cut_reason == "early_hangup" and leg.talk_s < 0.61 * leg.need_s


def test_time_limit_ends_the_bridge_with_caller_still_on_the_line(drive):
    actions = []
    agent = AgentSpec(id="ann", talk_median_s=600, talk_sigma=0.01)
    result, _ = drive(_dial_routes(_client_dial(time_limit=60), actions), make_scenario(agents=[agent]))
    leg = result.truth[0].legs[0]
    assert actions[0]["DialCallDuration"] == "60" and actions[0]["CallStatus"] == "in-progress"
    assert leg.hung_up_by == "time-limit" and leg.cut_short


def test_busy_agent_gives_busy(drive):
    from random import Random

    from emulator.agents import SimAgent
    agent = SimAgent(AgentSpec(id="ann"))
    agent.on_call = True
    assert agent.ring(Random(1), 0.0, 30).status == "busy"
