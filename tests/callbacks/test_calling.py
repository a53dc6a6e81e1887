"""Click-to-call: "call back" rings the supervisor, then dials the caller from the centre's number.

The use case (``callbacks.calling``), the ring job's REST request against the emulator's
Twilio stand-in (with its faults), and the call's signed webhooks, on both databases.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aftercall.app import create_app
from aftercall.callbacks import ring_job, sweep
from callbacks import calling
from callbacks.errors import CallbackError
from emulator.twilio_rest import FakeTwilioRest
from outbound.twilio_rest import TwilioDialer, TwilioSender
from store.accounts import ApiToken, AuditLog, hash_token
from store.callbacks import CallAttempt, CallbackTask
from store.jobs import Job
from store.users import User
from tests.callbacks.conftest import SWEEP_AT, surveyed
from tests.conftest import AUTH_TOKEN, BASE, TwilioClient, make_settings

ACCOUNT = "AC" + "3" * 32
FROM = "+15005550006"
CALLER = "+15550001111"
SUP_PHONE = "+15557770000"


@pytest.fixture
def rest():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, seed=11, slow_s=1.0) as fake:
        yield fake


@pytest.fixture
def capp(database, rest):
    app = create_app(make_settings(database, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_FROM_NUMBER=FROM,
                                   TWILIO_API_BASE_URL=rest.url, PUBLIC_BASE_URL=BASE), db=database)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def tw(capp) -> TwilioClient:
    return TwilioClient(capp.test_client())


@pytest.fixture
def dialer(rest):
    sender = TwilioSender(ACCOUNT, AUTH_TOKEN, from_number=FROM, base_url=rest.url, timeout=0.4)
    return TwilioDialer(sender)


@pytest.fixture
def task(capp, tw, database, team):
    """Task of a caller who said "no", owned by sup@, whose profile rings +15557770000."""
    surveyed(tw, "CA-unhappy", "212", caller=CALLER)
    sweep(make_settings(database), database, now=SWEEP_AT)
    with database.session() as s:
        s.get(User, team["sup"]).ring_to = SUP_PHONE
        return s.scalar(select(CallbackTask.id))


def start(database, task_id, user_id):
    with database.session() as s:
        attempt, started = calling.call_back(s, task_id, user_id=user_id, actor="sup@example.com", ring_job=ring_job)
        return attempt.id, started


def ring(database, dialer, attempt_id):
    return calling.ring(database, dialer, calling.Urls(BASE), attempt_id)


def attempt(database, attempt_id) -> dict:
    with database.session() as s:
        return s.get(CallAttempt, attempt_id).to_dict()


def task_state(database, task_id) -> str:
    with database.session() as s:
        return s.get(CallbackTask, task_id).state


def answered(tw, rest, attempt_id):
    """The supervisor picks up: Twilio requests the call's url; returns (CallSid, TwiML root)."""
    made = rest.sent("call")[-1]
    params = {"CallSid": made.sid, "From": FROM, "To": made.to, "CallStatus": "in-progress",
              "Direction": "outbound-api", "AccountSid": ACCOUNT}
    assert made.params["Url"].startswith(f"{BASE}/callback/voice/answer?a={attempt_id}&")
    resp = tw.post(made.params["Url"].removeprefix(BASE), params)     # the call's url, as Twilio requests it
    assert resp.status_code == 200
    return made.sid, ET.fromstring(resp.data)


def dial_action(tw, attempt_id, sid, status, seconds=None):
    params = {"CallSid": sid, "CallStatus": "in-progress", "DialCallStatus": status, "DialCallSid": "CA-child"}
    if seconds is not None:
        params["DialCallDuration"] = seconds
    return tw.post(f"/callback/voice/dial?a={attempt_id}", params)


def leg_status(tw, attempt_id, sid, status, seconds=0):
    return tw.post(f"/callback/voice/leg?a={attempt_id}", {"CallSid": "CA-child", "ParentCallSid": sid,
                                                            "CallStatus": status, "CallDuration": seconds,
                                                            "To": CALLER, "From": FROM})


def call_status(tw, attempt_id, sid, status, seconds=0):
    return tw.post(f"/callback/voice/status?a={attempt_id}", {"CallSid": sid, "CallStatus": status,
                                                               "CallDuration": seconds, "To": SUP_PHONE})


def test_talked_caller_moves_the_task_to_called_with_twilios_durations(database, tw, rest, dialer, task, team):
    attempt_id, started = start(database, task, team["sup"])
    assert started and attempt(database, attempt_id)["state"] == "queued"
    assert ring(database, dialer, attempt_id) == "rang"
    made = rest.sent("call")
    assert [(c.to, c.from_) for c in made] == [(SUP_PHONE, FROM)]
    assert made[0].params["Url"] == f"{BASE}/callback/voice/answer?a={attempt_id}&lang=en"   # the supervisor's
    assert attempt(database, attempt_id)["state"] == "ringing"

    sid, root = answered(tw, rest, attempt_id)
    dial = root.find("Dial")
    assert dial.get("callerId") == FROM                       # the caller sees the centre's number
    assert dial.find("Number").text == CALLER
    assert dial.find("Number").get("statusCallback").startswith("/callback/voice/leg")
    assert "task" in root.find("Say").text
    assert attempt(database, attempt_id)["state"] == "connecting"

    first = dial_action(tw, attempt_id, sid, "completed", 95)
    again = dial_action(tw, attempt_id, sid, "completed", 95)   # Twilio's duplicate
    assert first.data == again.data and b"<Hangup" in first.data
    leg_status(tw, attempt_id, sid, "completed", 97)            # the other source: changes nothing
    call_status(tw, attempt_id, sid, "completed", 130)
    got = attempt(database, attempt_id)
    assert (got["state"], got["talk_seconds"], got["call_seconds"], got["twilio_sid"]) == ("connected", 95, 130, sid)
    assert task_state(database, task) == "called"
    with database.session() as s:
        actions = [(a.actor, a.action) for a in s.scalars(select(AuditLog).where(
            AuditLog.target == f"task:{task}").order_by(AuditLog.id))]
    assert actions[-3:] == [("sup@example.com", "callback.call"), ("twilio", "callback.call_end"),
                            ("twilio", "callback.state")]


def test_double_click_rings_once_and_a_second_job_does_nothing(database, dialer, rest, task, team):
    first, started = start(database, task, team["sup"])
    second, again = start(database, task, team["sup2"])   # another supervisor at the same moment
    assert (second, again) == (first, False)
    assert ring(database, dialer, first) == "rang"
    assert ring(database, dialer, first) == "nothing"     # the job run twice (a retry, a second worker)
    assert len(rest.sent("call")) == 1
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 1
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == 1


def test_refusals_change_nothing(database, task, team):
    with database.session() as s:
        s.get(User, team["sup2"]).ring_to = ""
    with pytest.raises(CallbackError) as no_phone:
        start(database, task, team["sup2"])
    assert no_phone.value.key == "no_ring_to"
    with pytest.raises(CallbackError) as hr:
        start(database, task, team["hr"])
    assert hr.value.key == "not_supervisor"
    with database.session() as s:
        s.get(CallbackTask, task).state = "resolved"
    with pytest.raises(CallbackError) as final:
        start(database, task, team["sup"])
    assert final.value.key == "task_final"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == 0
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_caller_not_answering_reordered_callbacks_make_the_task_not_reached(database, tw, rest, dialer, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    ring(database, dialer, attempt_id)
    sid, _ = answered(tw, rest, attempt_id)
    call_status(tw, attempt_id, sid, "completed", 35)          # the supervisor's leg ends first
    assert attempt(database, attempt_id)["state"] == "connecting"
    leg_status(tw, attempt_id, sid, "no-answer")
    dial_action(tw, attempt_id, sid, "no-answer")
    leg_status(tw, attempt_id, sid, "no-answer")               # duplicated
    got = attempt(database, attempt_id)
    assert (got["state"], got["outcome"], got["call_seconds"]) == ("not-reached", "no-answer", 35)
    assert task_state(database, task) == "not-reached"
    again, started = start(database, task, team["sup"])        # a caller not reached may be tried again
    assert started and again != attempt_id


def test_busy_caller_and_a_late_talked_report_do_not_flip_it(database, tw, rest, dialer, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    ring(database, dialer, attempt_id)
    sid, _ = answered(tw, rest, attempt_id)
    dial_action(tw, attempt_id, sid, "busy")                  # the caller declined
    leg_status(tw, attempt_id, sid, "completed", 3)           # out of order, contradicting: ignored
    assert attempt(database, attempt_id)["state"] == "not-reached"
    assert task_state(database, task) == "not-reached"


def test_supervisor_not_answering_leaves_the_task_as_it_was(database, tw, rest, dialer, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    ring(database, dialer, attempt_id)
    sid = rest.sent("call")[0].sid
    call_status(tw, attempt_id, sid, "no-answer")
    call_status(tw, attempt_id, sid, "no-answer")
    got = attempt(database, attempt_id)
    assert (got["state"], got["outcome"]) == ("supervisor-missed", "no-answer")
    assert task_state(database, task) == "open"
    # Twilio requests the url after all (a late answer): the attempt is over, no Dial.
    _, root = answered(tw, rest, attempt_id)
    assert root.find("Dial") is None and root.find("Hangup") is not None


@pytest.mark.parametrize("fault, code", [("21211", 21211), ("500", 20500), ("429", 20429), ("timeout", None)])
def test_rest_errors_are_shown_and_retried_without_ringing_twice(database, dialer, rest, task, team, fault, code):
    attempt_id, _ = start(database, task, team["sup"])
    rest.fail(fault)
    if fault == "21211":
        assert ring(database, dialer, attempt_id) == "failed"
        got = attempt(database, attempt_id)
        assert (got["state"], got["error_code"], got["outcome"]) == ("failed", 21211, "21211")
        assert "not a valid phone number" in got["error"]
        assert rest.sent("call") == []
        assert task_state(database, task) == "open"
        return
    with pytest.raises(calling.RetryLater):
        ring(database, dialer, attempt_id)
    got = attempt(database, attempt_id)
    assert got["state"] == "queued" and got["error_code"] == code
    assert ring(database, dialer, attempt_id) == "rang"
    assert len(rest.sent("call")) == 1 and attempt(database, attempt_id)["state"] == "ringing"


@pytest.mark.parametrize("fault", ["500-after-create", "timeout-after-create"])
def test_an_ambiguous_failure_is_looked_up_before_any_retry(database, dialer, rest, task, team, fault):
    attempt_id, _ = start(database, task, team["sup"])
    rest.fail(fault)
    with pytest.raises(calling.RetryLater):
        ring(database, dialer, attempt_id)
    assert ring(database, dialer, attempt_id) == "found"
    made = rest.sent("call")
    assert len(made) == 1 and attempt(database, attempt_id)["twilio_sid"] == made[0].sid


def test_a_call_whose_create_answer_was_lost_is_adopted_by_its_webhook(database, tw, dialer, rest, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    rest.fail("timeout-after-create")
    with pytest.raises(calling.RetryLater):
        ring(database, dialer, attempt_id)
    sid, root = answered(tw, rest, attempt_id)          # Twilio rang anyway, and the supervisor answered
    assert root.find("Dial") is not None
    assert ring(database, dialer, attempt_id) == "nothing"
    assert len(rest.sent("call")) == 1 and attempt(database, attempt_id)["twilio_sid"] == sid


def test_retries_end_failed_and_free_the_task(database, dialer, rest, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    rest.fail(*["429"] * calling.MAX_TRIES)
    for _ in range(calling.MAX_TRIES - 1):
        with pytest.raises(calling.RetryLater):
            ring(database, dialer, attempt_id)
    assert ring(database, dialer, attempt_id) == "failed"
    assert attempt(database, attempt_id)["error_code"] == 20429
    assert start(database, task, team["sup"])[1]       # the task is free for another try


def test_webhooks_are_signed_and_never_an_application_error(database, tw, dialer, rest, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    ring(database, dialer, attempt_id)
    sid = rest.sent("call")[0].sid
    assert tw.post(f"/callback/voice/answer?a={attempt_id}", {"CallSid": sid}, sign=False).status_code == 403
    for path in (f"/callback/voice/answer?a={attempt_id + 1}", "/callback/voice/answer?a=x",
                 f"/callback/voice/dial?a={attempt_id}"):
        resp = tw.post(path, {"CallSid": "CA-other", "DialCallStatus": "completed"})
        assert resp.status_code == 200 and ET.fromstring(resp.data).tag == "Response"
    assert b"Say" in tw.post("/callback/voice/answer?a=999", {"CallSid": sid}).data   # the apology
    assert attempt(database, attempt_id)["state"] == "ringing"


def test_api_starts_the_same_use_case_and_shows_attempts(capp, database, task, team):
    with database.session() as s:
        s.add(ApiToken(name="crm", role="supervisor", token_hash=hash_token("sup-token")))
    client, auth = capp.test_client(), {"Authorization": "Bearer sup-token"}
    first = client.post(f"/api/callbacks/{task}/call", headers=auth)
    assert first.status_code == 202 and first.json["started"] is True
    again = client.post(f"/api/callbacks/{task}/call", headers=auth)
    assert again.status_code == 202 and again.json["started"] is False
    assert again.json["attempt"]["id"] == first.json["attempt"]["id"]
    shown = client.get(f"/api/callbacks/{task}", headers=auth).json["attempts"]
    assert [(a["id"], a["state"]) for a in shown] == [(first.json["attempt"]["id"], "queued")]
    refused = client.post(f"/api/callbacks/{task}/call", json={"user_id": team["sup2"]}, headers=auth)
    assert refused.status_code == 202     # under way already: the same attempt, whoever asks
    assert client.post("/api/callbacks/999/call", headers=auth).status_code == 404
    assert client.post(f"/api/callbacks/{task}/call", json={"user_id": "x"}, headers=auth).status_code == 400


def test_one_call_at_a_time_per_supervisor_phone(database, tw, dialer, rest, task, team):
    surveyed(tw, "CA-second", "212", caller="+15550002222")
    sweep(make_settings(database), database, now=SWEEP_AT)
    with database.session() as s:
        other = s.scalar(select(CallbackTask.id).where(CallbackTask.call_sid == "CA-second"))
    first, _ = start(database, task, team["sup"])
    with pytest.raises(CallbackError) as busy:
        start(database, other, team["sup"])
    assert busy.value.key == "ring_to_busy" and busy.value.params["id"] == task
    ring(database, dialer, first)
    call_status(tw, first, rest.sent("call")[0].sid, "busy")       # the supervisor's line was busy
    assert attempt(database, first)["state"] == "supervisor-missed"
    assert start(database, other, team["sup"])[1]                  # the phone is free again


def test_the_job_without_twilio_settings_fails_the_attempt_at_once(database, task, team, monkeypatch):
    from aftercall import jobs
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    attempt_id, _ = start(database, task, team["sup"])
    with database.session() as s:
        job_id = s.scalar(select(Job.id))
    assert jobs.run(database, job_id) == "done"
    got = attempt(database, attempt_id)
    assert (got["state"], got["outcome"]) == ("failed", "not-configured") and "PUBLIC_BASE_URL" in got["error"]
    assert start(database, task, team["sup"])[1]       # nothing left claimed


def test_an_attempt_whose_reports_never_came_frees_task_and_phone_later(database, tw, dialer, rest, task, team):
    attempt_id, _ = start(database, task, team["sup"])
    ring(database, dialer, attempt_id)
    answered(tw, rest, attempt_id)                 # then neither the Dial action nor any status callback
    with database.session() as s:
        later = s.get(CallAttempt, attempt_id).updated_at + calling.STALE_AFTER + timedelta(minutes=1)
        again, started = calling.call_back(s, task, user_id=team["sup"], actor="sup@example.com",
                                           ring_job=ring_job, now=later)
        assert started and again.id != attempt_id
    got = attempt(database, attempt_id)
    assert (got["state"], got["outcome"]) == ("failed", "no-report")
    assert task_state(database, task) == "open"
