"""The whole journey through a miniature call centre: IVR, queues, agents, survey, truth."""

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from aftercall.cli.demo import demo_window
from emulator import HttpConsole, Target, load_scenario, run
from aftercall.cli.simulate import simulate_command

from .conftest import make_scenario
from .toy_apps import API_TOKEN, TOKEN, call_center_app, scripted_app

SMOKE = Path(__file__).parents[2] / "emulator" / "scenarios" / "smoke.toml"
DEMO = SMOKE.with_name("demo.toml")


def smoke(**changes):
    return load_scenario(SMOKE).replace(auth_token=TOKEN, api_token=API_TOKEN, **changes)


def run_toy(scenario, **kw):
    app = call_center_app()
    target = Target.wsgi(app)
    result = run(scenario, target, progress=False,
                 console=HttpConsole(target.client, target.base_url, API_TOKEN), **kw)
    return app, result


def test_journey_truth_matches_what_the_app_saw():
    app, result = run_toy(smoke())
    assert app.config["BAD_SIGNATURES"] == 0 and result.application_errors == 0
    assert result.console_errors == []
    assert set(app.config["AGENTS"]) == {"honest", "cutter", "dodger"}
    assert result.calls >= 20 and result.bridged >= 15 and result.surveys_completed >= 3
    calls = app.config["CALLS"]
    for call in result.truth:
        seen = calls.get(call.call_sid, {})
        bridged = [leg for leg in call.legs if leg.dial_status == "completed"]
        actions = [a for a in seen.get("dial_actions", []) if a["DialCallStatus"] == "completed"]
        assert len(actions) <= len(bridged)
        for leg, action in zip(bridged, actions):
            expected = "in-progress" if leg.hung_up_by in ("agent", "time-limit") else "completed"
            assert action["CallStatus"] == expected
            assert action["DialCallDuration"] == str(int(round(leg.talk_s)))
        answers = [a for leg in call.legs for a in leg.survey]
        assert seen.get("survey", []) == answers
        for leg in call.legs:
            if leg.survey:
                assert leg.hung_up_by == "agent"
            if leg.behaviour == "survey_dodger" and leg.dial_status == "completed":
                assert leg.hung_up_by == "caller" and leg.survey == []
            if leg.behaviour == "cap_cutter" and leg.cut_short:
                assert leg.cut_reason == "cap" and leg.talk_s < 780


def test_same_seed_same_truth_different_seed_different_truth():
    lines = lambda r: [c.to_json() for c in r.truth]
    _, a = run_toy(smoke())
    _, b = run_toy(smoke())
    _, c = run_toy(smoke(seed=8))
    assert lines(a) == lines(b)
    assert lines(a) != lines(c)


def test_repeat_callers_call_back_from_the_same_number():
    scenario = smoke()
    scenario.callers.repeat_if_unresolved = 1.0
    _, result = run_toy(scenario)
    by_sid = {c.call_sid: c for c in result.truth}
    repeats = [c for c in result.truth if c.repeat_of]
    assert repeats
    for call in repeats:
        first = by_sid[call.repeat_of]
        assert not first.resolved and call.from_number == first.from_number
        assert 0.5 * 3600 <= call.start_s - (first.start_s + first.duration_s) <= 8 * 3600


def test_concurrent_calls_against_a_live_server_over_http():
    app = call_center_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        scenario = load_scenario(SMOKE).replace(auth_token=TOKEN, api_token=API_TOKEN, calls=40, days=1)
        scenario.arrivals.per_hour = [60.0] * 24     # overlapping calls
        result = run(scenario, base, progress=False, concurrency=6)
    finally:
        server.shutdown()
        thread.join()
    assert app.config["BAD_SIGNATURES"] == 0
    assert result.calls >= 40 and result.application_errors == 0 and result.console_errors == []
    assert result.bridged > 0 and result.abandoned_in_queue > 0      # 3 agents cannot keep up
    pct = result.percentiles()
    assert pct["/voice/incoming"]["n"] >= 40 and pct["/voice/incoming"]["p99_ms"] > 0
    assert all(e["url"].startswith(base) for e in app.config["LOG"])


def test_an_agents_presence_is_sent_only_after_its_registration_has_answered():
    """Requests run in a thread pool; a presence update that overtook the agent's
    registration would reach an app that does not know the agent yet."""
    presence_sent = threading.Event()
    overtaken: list[bool] = []

    class Console:
        def register(self, spec):
            # the registration is still in flight while it waits: a presence sent meanwhile sets the event
            return lambda: overtaken.append(presence_sent.wait(0.5))

        def presence(self, agent_id, presence):
            return presence_sent.set

    scenario = make_scenario(calls=0, agents=[{"id": "a1"}])
    run(scenario, scripted_app({}), progress=False, console=Console(), concurrency=4)
    assert overtaken == [False] and presence_sent.is_set()


def test_cli_prints_summary_and_writes_truth(tmp_path):
    app = call_center_app()
    app.cli.add_command(simulate_command)
    truth = tmp_path / "truth.jsonl"
    out = app.test_cli_runner().invoke(args=[
        "simulate", "--scenario", str(SMOKE), "--calls", "6", "--auth-token", TOKEN,
        "--api-token", API_TOKEN, "--truth", str(truth), "--no-progress", "--seed", "3"])
    assert out.exit_code == 0, out.output
    assert "bridged" in out.output and "/voice/incoming" in out.output
    records = [json.loads(line) for line in truth.read_text().splitlines()]
    assert len(records) >= 6 and {"call_sid", "legs", "app_errors"} <= set(records[0])


def test_demo_scenario_shape():
    demo = load_scenario(DEMO)
    assert len(demo.agents) == 12 and len({a.team for a in demo.agents}) == 3
    gaming = [a for a in demo.agents if a.behaviour != "honest"]
    assert 2 <= len(gaming) <= 4
    assert {q for a in demo.agents for q in a.skills} >= {"billing", "tech", "sales"}
    assert demo.days >= 7


def test_unknown_scenario_keys_are_rejected(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('seed = 1\n[callers]\npatince_mean_s = 3\n')
    with pytest.raises(ValueError, match="patince_mean_s"):
        load_scenario(bad)


def test_queue_difficulty_lowers_resolution_and_ratings_for_the_same_agent():
    from random import Random
    from statistics import fmean

    from emulator.callers import Caller
    from emulator.scenario import Callers

    def outcomes(difficulty):
        caller = Caller(Random(5), Callers(), "+15550000000")
        caller.responds_to_survey = True
        resolved = [caller.resolve(0.7, False, difficulty) for _ in range(4000)]
        answers = [caller.survey_input(1, 0.7, r, False, difficulty) for r in resolved]
        return fmean(resolved), fmean(int(a) for a in answers if a != "hangup")   # a few drop out

    easy, hard = outcomes(0.0), outcomes(0.4)
    assert easy[0] - hard[0] > 0.12          # -0.45 * 0.4 = -0.18 expected
    assert easy[1] - hard[1] > 0.8           # -2 * 0.4 points, plus the lost resolutions
    assert load_scenario(DEMO).callers.difficulty["tech"] > 0


def test_difficulty_outside_zero_one_is_rejected(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('seed = 1\n[callers]\ndifficulty = { tech = 1.5 }\n')
    with pytest.raises(ValueError, match="difficulty"):
        load_scenario(bad)


def test_until_keeps_every_call_and_repeat_before_it():
    scenario = smoke()
    scenario.callers.repeat_if_unresolved = 1.0
    _, free = run_toy(scenario)
    ends = sorted(c.start_s + c.duration_s for c in free.truth)
    until_s = ends[len(ends) // 2] + scenario.timing.max_call_s     # about half the calls may start
    bounded = scenario.replace(until=scenario.epoch() + dt.timedelta(seconds=until_s))
    _, result = run_toy(bounded)
    assert 0 < result.calls < free.calls
    assert max(c.start_s + c.duration_s for c in result.truth) <= until_s
    assert max(c.start_s for c in result.truth) < until_s - scenario.timing.max_call_s


def test_the_demo_week_is_over_before_now():
    now = dt.datetime(2026, 12, 2, 4, 33, tzinfo=dt.timezone.utc)
    demo = demo_window(load_scenario(DEMO), now)
    last_arrival = demo.epoch() + dt.timedelta(days=demo.days)
    latest_repeat = last_arrival + dt.timedelta(hours=max(demo.callers.repeat_delay_h))
    assert demo.until == now and latest_repeat + dt.timedelta(seconds=demo.timing.max_call_s) <= now
    assert now - last_arrival < dt.timedelta(hours=14)                 # still a recent week


def test_agents_log_in_and_out_with_their_shifts():
    """A shift's agent is sent "available" at its start and "offline" at its end each day until the
    last call could be over (here 30 h after the epoch); one running past midnight is logged in
    from the start; the demo staffs every hour."""
    from emulator.scenario import Timing
    sent: list[tuple[str, str]] = []

    class Console:
        def register(self, spec):
            return None

        def presence(self, agent_id, presence):
            return lambda: sent.append((agent_id, presence))

    scenario = make_scenario(calls=0, agents=[{"id": "day", "shift_h": [9, 17]}, {"id": "night", "shift_h": [20, 6]},
                                              {"id": "always"}], timing=Timing(max_call_s=30 * 3600))
    run(scenario, scripted_app({}), progress=False, console=Console())
    by = {a: [p for who, p in sent if who == a] for a in ("day", "night", "always")}
    assert by["day"] == ["offline", "available", "offline"]
    assert by["night"] == ["available", "offline", "available", "offline"]
    assert by["always"] == ["available"]
    spec = scenario.agents[1]
    assert spec.on_shift(2 * 3600) and spec.on_shift(23 * 3600) and not spec.on_shift(12 * 3600)
    with pytest.raises(ValueError, match="shift_h"):
        make_scenario(agents=[{"id": "x", "shift_h": [9, 9]}])
    demo = load_scenario(DEMO)
    for hour in range(24):
        for queue in ("billing", "tech", "sales", "general"):
            assert any(queue in a.skills and a.on_shift(hour * 3600 + 1800) for a in demo.agents), (hour, queue)
