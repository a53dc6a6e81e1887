"""Click-to-call against the emulator: Twilio's REST stand-in (with its faults) places each
call-back, the emulated supervisor answers or not, the emulated caller answers, declines or
lets it ring; duplicated and reordered status callbacks. Every attempt and task must end as
that ground truth says, each call placed once."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from aftercall.callbacks import ring_job, sweep
from callbacks import calling
from emulator import Target
from emulator.click_to_call import ClickToCallPlayer
from emulator.scenario import ClickToCall, Faults, Scenario
from store.callbacks import CallAttempt, CallbackTask
from store.users import User
from tests.callbacks.conftest import SWEEP_AT, surveyed
from tests.callbacks.test_calling import ACCOUNT, FROM, capp, dialer, rest, tw  # noqa: F401  (fixtures)
from tests.conftest import AUTH_TOKEN, BASE, make_settings

CALLERS = 16


def test_task_states_match_the_emulated_truth(capp, database, team, tw, rest, dialer):  # noqa: F811
    for n in range(CALLERS):
        surveyed(tw, f"CA-c2c-{n}", "212", caller=f"+1555200{n:04d}")
    sweep(make_settings(database, CALLBACK_TEAM_CAPACITY="0"), database, now=SWEEP_AT)   # every caller gets a task
    with database.session() as s:
        s.get(User, team["sup"]).ring_to = "client:sup_north"     # a Twilio Client softphone
        tasks = {t.id: t.caller_number for t in s.scalars(select(CallbackTask))}
    assert len(tasks) == CALLERS
    rest.rates = {"429": 0.1, "500": 0.05, "500-after-create": 0.1, "timeout-after-create": 0.05, "timeout": 0.05}
    scenario = Scenario(seed=5, account_sid=ACCOUNT, auth_token=AUTH_TOKEN,
                        faults=Faults(duplicate_status_callback=0.5, reorder_status_callbacks=0.5),
                        click_to_call=ClickToCall(supervisor_answer=0.7, caller_answer=0.5, caller_decline=0.25))
    player = ClickToCallPlayer(scenario, rest, Target.wsgi(capp, BASE))
    attempts, truth = {}, {}
    at = dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.timezone.utc)
    for task_id in tasks:                # one call at a time on the supervisor's phone
        with database.session() as s:
            attempt, _ = calling.call_back(s, task_id, user_id=team["sup"], actor="sup@example.com", ring_job=ring_job)
            attempts[attempt.id] = task_id
        for _ in range(calling.MAX_TRIES + 1):     # the job and its retries, as the runner runs them
            try:
                calling.ring(database, dialer, calling.Urls(BASE), attempt.id)
                break
            except calling.RetryLater:
                continue
        truth.update({t.attempt: t for t in player.play(at)})
        at += dt.timedelta(minutes=10)

    made = rest.sent("call")
    with database.session() as s:
        rows = {a.id: a for a in s.scalars(select(CallAttempt))}
        states = {t.id: t.state for t in s.scalars(select(CallbackTask))}
    assert len({c.sid for c in made}) == len(made) == len(truth)           # each call placed once
    assert {a.twilio_sid for a in rows.values() if a.twilio_sid} == {c.sid for c in made}
    seen = {"connected": 0, "not-reached": 0, "supervisor-missed": 0}
    for attempt_id, task_id in attempts.items():
        row = rows[attempt_id]
        if row.twilio_sid is None:          # Twilio refused for good: shown, nothing rung
            assert row.state == "failed" and row.error_code and states[task_id] == "open"
            continue
        t = truth[str(attempt_id)]
        assert all(c.to == "client:sup_north" and c.from_ == FROM for c in made)
        assert row.state == t.expected_state, (attempt_id, t)
        seen[row.state] += 1
        if t.caller is not None:
            assert (t.dialled, t.caller_id) == (tasks[task_id], FROM)   # the caller sees the centre's number
        if row.state == "connected":
            assert row.talk_seconds == t.talk_s and states[task_id] == "called"
        elif row.state == "not-reached":
            assert states[task_id] == "not-reached"
        else:
            assert states[task_id] == "open"
    assert all(seen.values()), seen      # the seed exercises every outcome
