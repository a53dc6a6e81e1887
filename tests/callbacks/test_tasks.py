"""Call-back tasks: which legs get one, exactly once, for whom, due when; the states and the audit."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from aftercall.callbacks import CallbackSweeper, sweep
from callbacks.due import next_business_day_end
from callbacks.errors import CallbackError
from callbacks.tasks import change_state, open_tasks, reassign, set_team_supervisor
from ivr.hours import Schedule
from ivr.menu import load_menu
from store.accounts import AuditLog
from store.callbacks import CallbackTask
from store.calls import Leg
from survey.answers import record_answer
from survey.flow import Record
from tests.callbacks.conftest import CALL_AT, SWEEP_AT, surveyed
from tests.conftest import make_settings
from tests.voice.driver import ScriptedCall


def tasks(database) -> list[tuple]:
    with database.session() as s:
        return [(t.call_sid, t.agent_id, t.reason, t.state, t.team) for t in
                s.scalars(select(CallbackTask).order_by(CallbackTask.call_sid))]


def run_sweep(database, now=SWEEP_AT) -> int:
    return sweep(make_settings(database), database, now=now)


def test_each_trigger_opens_one_task_and_happy_callers_none(twilio, database, team):
    surveyed(twilio, "CA-no", "212")       # "no" to adequacy, rating 1
    surveyed(twilio, "CA-low", "122")      # adequate, rating 2
    surveyed(twilio, "CA-ok", "132")       # adequate, rating 3: nothing owed
    surveyed(twilio, "CA-top", "152")
    surveyed(twilio, "CA-tech", "142", option="2")   # Carol, team south
    assert run_sweep(database) == 2
    assert tasks(database) == [("CA-low", "alice", "low-rating", "open", "north"),
                               ("CA-no", "alice", "adequacy-no", "open", "north")]


def test_duplicate_webhooks_and_repeated_sweeps_make_one_task(twilio, database, team, monkeypatch):
    call = ScriptedCall(twilio, "CA-dup")
    call.end_dial(call.to_agent(), agent_hung_up=True)
    first = call.find("Gather").get("action")
    call.post(first, Digits="2")
    call.post(first, Digits="2")     # Twilio's retry of the same answer
    call.press("1")
    call.press("2")
    call.status(at=CALL_AT)
    call.status(at=CALL_AT)
    assert run_sweep(database) == 1
    assert run_sweep(database) == 0
    # A concurrent sweep that read the same leg before this one committed inserts nothing.
    with database.session() as s:
        leg_id = s.scalar(select(Leg.id))
    monkeypatch.setattr("callbacks.tasks.triggered_legs", lambda session, since: [(leg_id, "adequacy-no")])
    with database.session() as s:
        assert open_tasks(s, load_menu(make_settings(database).menu_file).hours, now=SWEEP_AT) == []
    assert len(tasks(database)) == 1
    with database.session() as s:
        assert [a.action for a in s.scalars(select(AuditLog).where(AuditLog.action.like("callback.%")))] == [
            "callback.team_supervisor", "callback.open"]


def test_transfer_back_then_abandoned_opens_a_task_but_answered_does_not(twilio, database, team):
    gone = surveyed(twilio, "CA-gone", "141")      # "speak to an agent again" …
    gone.leave_queue(gone.find("Enqueue"), result="hangup", queue_time=90)   # … and hangs up waiting
    gone.status(at=CALL_AT)
    kept = surveyed(twilio, "CA-kept", "141")
    enqueue = kept.find("Enqueue")
    kept.wait()
    kept.end_dial(kept.leave_queue(enqueue).find("Dial"), agent_hung_up=False, duration=60)
    kept.status(at=CALL_AT)
    assert run_sweep(database) == 1
    assert tasks(database) == [("CA-gone", "alice", "abandoned-after-transfer", "open", "north")]


def test_a_follow_up_rating_opens_the_task_too(twilio, database, team):
    call = surveyed(twilio, "CA-sms", "")          # the caller hung up before answering
    call.status(at=CALL_AT)
    assert run_sweep(database) == 0
    with database.session() as s:
        leg = s.scalar(select(Leg).where(Leg.call_sid == "CA-sms"))
        record_answer(s, leg_id=leg.id, call_sid="CA-sms", record=Record("satisfaction", 1, "answered"),
                      finish=False, version="2026-11-v1", channel="sms")
    assert run_sweep(database) == 1
    assert tasks(database)[0][2] == "low-rating"


def test_owner_is_the_team_supervisor_and_due_the_next_business_day(twilio, database, team):
    surveyed(twilio, "CA-n", "2")
    surveyed(twilio, "CA-s", "2", option="2")      # team south has no supervisor: unassigned
    run_sweep(database)
    schedule = load_menu(make_settings(database).menu_file).hours
    with database.session() as s:
        owners = {t.call_sid: t.owner_id for t in s.scalars(select(CallbackTask))}
        due = {t.due_at for t in s.scalars(select(CallbackTask))}
    assert owners == {"CA-n": team["sup"], "CA-s": None}
    # Friday 15:00 in Moscow, open every day: due by the end of Saturday, Moscow time.
    assert due == {next_business_day_end(schedule, SWEEP_AT)} == {datetime(2026, 11, 21, 21, 0, tzinfo=timezone.utc)}


def test_calls_older_than_the_lookback_are_not_swept(twilio, database, team):
    surveyed(twilio, "CA-old", "2")
    assert run_sweep(database, now=CALL_AT + timedelta(days=15)) == 0
    assert run_sweep(database, now=CALL_AT + timedelta(days=13)) == 1


def test_next_business_day_skips_closed_days_and_holidays():
    schedule = Schedule.from_dict({"timezone": "Europe/Moscow", "mon": ["09:00-13:00", "14:00-18:00"],
                                   "tue": ["09:00-18:00"], "fri": ["09:00-17:00"], "holidays": ["2026-11-23"]})
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)   # 23:00 Friday in Moscow
    # Saturday and Sunday closed, Monday the 23rd a holiday: Tuesday 18:00 Moscow.
    assert next_business_day_end(schedule, friday_evening) == datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)
    assert next_business_day_end(schedule, sunday) == datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        next_business_day_end(Schedule.from_dict({"timezone": "UTC"}), sunday)


def test_due_hours_setting_overrides_the_business_day(twilio, database, team):
    surveyed(twilio, "CA-h", "2")
    sweep(make_settings(database, CALLBACK_DUE_HOURS="4"), database, now=SWEEP_AT)
    with database.session() as s:
        assert s.scalar(select(CallbackTask.due_at)) == SWEEP_AT + timedelta(hours=4)


def _one_task(database) -> int:
    with database.session() as s:
        return s.scalar(select(CallbackTask.id))


def test_states_move_as_allowed_and_every_change_is_audited(twilio, database, team):
    surveyed(twilio, "CA-st", "2")
    run_sweep(database)
    task_id = _one_task(database)
    with database.session() as s:
        change_state(s, task_id, "called", actor="sup@example.com")
        change_state(s, task_id, "not-reached", actor="sup@example.com", note="voicemail")
        change_state(s, task_id, "called", actor="sup@example.com")
        task = change_state(s, task_id, "resolved", actor="sup@example.com", note="refund explained")
        assert task.closed_at is not None and task.note == "refund explained"
    with database.session() as s:
        moves = [(a.detail["old"], a.detail["new"]) for a in
                 s.scalars(select(AuditLog).where(AuditLog.action == "callback.state").order_by(AuditLog.id))]
    assert moves == [("open", "called"), ("called", "not-reached"), ("not-reached", "called"),
                     ("called", "resolved")]


@pytest.mark.parametrize("start, state, key", [
    ((), "not-reached", "bad_transition"),               # nobody called yet
    (("called", "resolved"), "called", "bad_transition"),  # resolved is final
    ((), "done", "bad_state"),
])
def test_refused_moves_change_nothing(twilio, database, team, start, state, key):
    surveyed(twilio, "CA-bad", "2")
    run_sweep(database)
    task_id = _one_task(database)
    with database.session() as s:
        for step in start:
            change_state(s, task_id, step, actor="t")
    with database.session() as s:
        before = (s.get(CallbackTask, task_id).state, s.scalar(select(AuditLog.id).order_by(AuditLog.id.desc())))
        with pytest.raises(CallbackError) as err:
            change_state(s, task_id, state, actor="t", note="x")
        assert err.value.key == key
    with database.session() as s:
        assert (s.get(CallbackTask, task_id).state, s.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()))) \
            == before


def test_bad_ids_notes_and_owners_are_refused(twilio, database, team):
    surveyed(twilio, "CA-r", "2")
    run_sweep(database)
    task_id = _one_task(database)
    with database.session() as s:
        for bad in (0, -1, 10**12, "1", None, task_id + 1):
            with pytest.raises(CallbackError, match="no call-back task"):
                change_state(s, bad, "called", actor="t")
        with pytest.raises(CallbackError, match="at most 500"):
            change_state(s, task_id, "called", actor="t", note="x" * 501)
        with pytest.raises(CallbackError, match="not an active supervisor"):
            reassign(s, task_id, team["hr"], actor="t")
        with pytest.raises(CallbackError, match="not an active supervisor"):
            reassign(s, task_id, 999, actor="t")
        with pytest.raises(CallbackError, match="team name"):
            set_team_supervisor(s, " ", team["sup"], actor="t")
        task = reassign(s, task_id, team["sup2"], actor="sup@example.com")
        assert task.owner_id == team["sup2"]
    with database.session() as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "callback.reassign"))
        assert (entry.actor, entry.detail) == ("sup@example.com", {"old": team["sup"], "new": team["sup2"]})


def test_the_worker_clock_sweeps_and_survives_a_dead_database(twilio, database, team, tmp_path):
    surveyed(twilio, "CA-w", "2")
    settings = make_settings(database)
    # The status callback put the call on 20 November; the real clock is later: widen the window.
    wide = make_settings(database, CALLBACK_LOOKBACK_DAYS="100000")
    assert CallbackSweeper(wide, database).tick() == 1
    from store.db import Database
    dead = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert CallbackSweeper(settings, dead).tick() == 0     # logged; the next tick tries again
    dead.dispose()
