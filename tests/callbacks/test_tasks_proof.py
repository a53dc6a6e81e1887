"""Proof on the emulator's truth: call-back tasks open for exactly the legs that owe their
caller a call, once each (a task of its own or a place on the caller's task), under
duplicated and reordered webhooks.

The demo scenario's calls go through the real webhooks with every delivery fault turned up;
then the worker's sweep runs twice. What the callers pressed (the emulator's truth, not the
app's tables) says which legs must have a task and why."""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from aftercall.config import Settings
from bench.proof import scratch_database, simulate
from aftercall.ground_truth import bridged
from callbacks.tasks import open_tasks
from emulator.scenario import load_scenario
from ivr.menu import load_menu
from store.callbacks import CallbackTask, TaskLeg
from store.calls import Leg

SCENARIO = "emulator/scenarios/demo.toml"


def owed(call) -> dict[int, str]:
    """Leg seq → the reason its caller is owed a call back, read from the truth."""
    out = {}
    for seq, leg in enumerate(call.legs, 1):
        keys = leg.survey + [""] * 3
        later_bridged = any(bridged(after) for after in call.legs[seq:])
        if keys[0] == "2":
            out[seq] = "adequacy-no"
        elif keys[1] in ("1", "2"):
            out[seq] = "low-rating"
        elif keys[2] == "1" and call.abandoned_in_queue and not later_bridged:
            out[seq] = "abandoned-after-transfer"
    return out


def test_every_owed_leg_gets_one_task_and_no_other_leg_any(sqlite_template, tmp_path, monkeypatch):
    faults = dataclasses.replace(load_scenario(SCENARIO).faults, duplicate_request=0.15,
                                 duplicate_status_callback=0.2, reorder_status_callbacks=0.3)
    monkeypatch.setattr("bench.proof.load_scenario",
                        lambda path: dataclasses.replace(load_scenario(path), faults=faults))
    db = scratch_database(tmp_path / "proof.db", sqlite_template)
    truth: list = []
    scenario = simulate(db, SCENARIO, seed=14, calls=300, truth=truth)
    assert scenario.faults.duplicate_request == 0.15
    with db.session() as s:
        hours = load_menu(Settings.from_env({}).menu_file).hours
        opened = open_tasks(s, hours, lookback_days=100000)
        assert opened and not open_tasks(s, hours, lookback_days=100000)     # a second sweep opens nothing
        legs = {(sid, seq): leg_id for leg_id, sid, seq in s.execute(select(Leg.id, Leg.call_sid, Leg.seq))}
        tasks = {(t.call_sid, t.leg_id): t.reason for t in s.scalars(select(CallbackTask))}
        attached = {(a.call_sid, a.leg_id): a.reason for a in s.scalars(select(TaskLeg))}
        per_leg = s.execute(select(CallbackTask.leg_id, func.count()).group_by(CallbackTask.leg_id)
                            .having(func.count() > 1)).all()
        # One task per caller: every attached leg's caller has a task, no caller two in the window.
        callers = s.execute(select(CallbackTask.caller_number, func.count()).group_by(CallbackTask.caller_number)
                            .having(func.count() > 1)).all()
    want = {(c.call_sid, legs[c.call_sid, seq]): reason for c in truth for seq, reason in owed(c).items()}
    assert per_leg == []
    assert len(want) >= 30 and {r for r in want.values()} >= {"adequacy-no", "low-rating"}
    assert not tasks.keys() & attached.keys()
    assert {**tasks, **attached} == want
    assert attached and len(tasks) < len(want)
    assert callers == []   # the scenario's week is within one window (7 days)
    db.dispose()
