"""Follow-up surveys end to end: planning, sending through the REST stand-in with its faults,
SMS replies and opt-outs, the call-back survey, status callbacks, the call API."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from aftercall.followups import tick
from store.accounts import ApiToken, hash_token
from store.calls import Leg, SurveyAnswer
from store.followups import Followup, OptOut
from survey import followups
from survey.followup_policy import QueuePolicy, parse_policy
from survey.followup_sms import parse_answer
from tests.outcomes.builder import agents, call, handled

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc)     # 13:00 in Moscow: outside quiet hours
NUMBER = "+15551230001"


def _seed(db, *, number=NUMBER, ended_by="caller", survey=None, queue="billing", at=T0, survey_state=None):
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(Leg)) == 0:
            agents(s, "ann", "bob")
        c = call(s, at, number=number, visits=[{**handled("ann", ended_by=ended_by, survey=survey), "queue": queue}])
        leg = s.scalar(select(Leg).where(Leg.call_sid == c.sid))
        if survey_state:
            leg.survey_state = survey_state
        return c.sid, leg.id


def _plan(app, now, rng=None):
    fs = app.config["FOLLOWUPS"]
    return tick(app.extensions["db"], fs, now, rng=rng or random.Random(1))


def _send(app, sender, fid, now):
    fs = app.config["FOLLOWUPS"]
    return followups.send(app.extensions["db"], sender, fs.policy, fs.urls, fid, now=now)


def _row(db, leg_id) -> Followup:
    with db.session() as s:
        return s.scalar(select(Followup).where(Followup.leg_id == leg_id))


def _sms(twilio_f, body, sid, number=NUMBER, **extra):
    r = twilio_f.post("/sms/incoming", {"MessageSid": sid, "From": number, "To": "+15005550006", "Body": body,
                                        **extra})
    assert r.status_code == 200 and r.mimetype == "text/xml"
    return r.get_data(as_text=True)


def test_sms_follow_up_end_to_end(fapp, database, rest, sender, twilio_f):
    call_sid, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    queued = _plan(fapp, now)
    assert len(queued) == 1
    assert _send(fapp, sender, queued[0], now) == "sent"
    assert _send(fapp, sender, queued[0], now) == "nothing"          # a duplicate job sends nothing
    [msg] = rest.sent("message")
    assert msg.to == NUMBER and "Reply 1 for yes" in msg.params["Body"]
    assert msg.params["StatusCallback"] == "http://localhost/sms/status"
    with database.session() as s:
        assert s.get(Leg, leg_id).survey_state == "follow-up"
    assert "How satisfied" in _sms(twilio_f, " yes. ", "SMa1")
    again = _sms(twilio_f, " yes. ", "SMa1")                           # Twilio's duplicate delivery
    assert "How satisfied" in again
    assert "did not understand" in _sms(twilio_f, "hmm, fine i guess", "SMa2")
    assert "Thank you for your answers" in _sms(twilio_f, "4!", "SMa3")
    with database.session() as s:
        got = s.execute(select(SurveyAnswer.question, SurveyAnswer.value, SurveyAnswer.channel, SurveyAnswer.agent_id)
                        .where(SurveyAnswer.leg_id == leg_id).order_by(SurveyAnswer.id)).all()
        assert [tuple(g) for g in got] == [("adequate", 1, "sms", "ann"), ("satisfaction", 4, "sms", "ann")]
        assert s.get(Leg, leg_id).survey_state == "follow-up"        # never "finished": that is the call's
    assert _row(database, leg_id).state == "answered"
    # Status callbacks, duplicated and out of order: the status only moves forward.
    for status in ("delivered", "sent", "delivered"):
        assert twilio_f.post("/sms/status", {"MessageSid": msg.sid, "MessageStatus": status}).status_code == 204
    assert _row(database, leg_id).twilio_status == "delivered"
    assert twilio_f.post("/sms/status", {"MessageSid": msg.sid, "MessageStatus": "sent"}, sign=False).status_code == 403
    assert twilio_f.post("/sms/incoming", {"MessageSid": "SMx", "From": NUMBER, "Body": "1"},
                         sign=False).status_code == 403
    # The call API shows the answers with their channel and the follow-up.
    with database.session() as s:
        s.add(ApiToken(name="sup", role="supervisor", token_hash=hash_token("sup-token")))
    body = fapp.test_client().get(f"/api/calls/{call_sid}", headers={"Authorization": "Bearer sup-token"}).json
    leg = body["legs"][0]
    assert [(a["question"], a["value"], a["channel"]) for a in leg["answers"]] == [
        ("adequate", 1, "sms"), ("satisfaction", 4, "sms")]
    assert leg["followup"]["state"] == "answered" and leg["followup"]["twilio_sid"] == msg.sid
    assert fapp.test_client().get("/api/calls/CAnope", headers={"Authorization": "Bearer sup-token"}).status_code == 404


def test_only_missing_questions_are_asked_and_complete_legs_never(fapp, database, rest, sender):
    _, partial = _seed(database, ended_by="agent", survey={"adequate": 2}, survey_state="offered")
    _, done = _seed(database, number="+15551230002", ended_by="agent",
                    survey={"adequate": 1, "satisfaction": 5}, survey_state="offered")
    now = T0 + timedelta(minutes=20)
    for fid in _plan(fapp, now):
        _send(fapp, sender, fid, now)
    assert _row(database, partial).questions == ["satisfaction"]
    assert "How satisfied" in rest.sent("message")[0].params["Body"]
    assert _row(database, done).state == "skipped" and _row(database, done).reason == "complete"
    with database.session() as s:
        assert s.get(Leg, partial).survey_state == "offered"        # the in-call state keeps its meaning


def test_who_is_never_asked(fapp, database, rest, sender):
    _, withheld = _seed(database, number="anonymous")
    _, stopped = _seed(database, number="+15551230003")
    _, recent = _seed(database, number=NUMBER, at=T0 - timedelta(days=3), ended_by="agent",
                      survey={"adequate": 1, "satisfaction": 4, "anything_else": 2}, survey_state="finished")
    _, twice = _seed(database, number=NUMBER)
    _, agent_ended = _seed(database, number="+15551230004", ended_by="agent")     # survey never offered: not ours
    with database.session() as s:
        s.add(OptOut(number="+15551230003", keyword="STOP", source="sms", created_at=T0))
    _plan(fapp, T0 + timedelta(minutes=20))
    assert (_row(database, withheld).reason, _row(database, stopped).reason, _row(database, twice).reason) == (
        "withheld", "opted-out", "recent-survey")
    assert _row(database, agent_ended) is None
    assert rest.sent() == []
    # The server's draw: a 0 % sample asks nobody.
    fs = fapp.config["FOLLOWUPS"]
    _, sampled = _seed(database, number="+15551230005")
    zero = parse_policy({"defaults": {"sample_rate": 0.0}, "texts": fs.policy.texts}, fs.policy.tz)
    with database.session() as s:
        followups.plan(s, zero, fs.survey, now=T0 + timedelta(minutes=20), rng=random.Random(3))
    assert _row(database, sampled).reason == "sampled-out"


def test_not_before_the_delay_and_never_in_quiet_hours(fapp, database, rest, sender):
    night = datetime(2026, 11, 3, 19, 0, tzinfo=timezone.utc)                  # 22:00 in Moscow
    _, leg_id = _seed(database, at=night - timedelta(minutes=5))
    assert _plan(fapp, night - timedelta(minutes=1)) == []                    # ended 4 min ago: not yet planned
    assert _plan(fapp, night + timedelta(minutes=30)) == []                   # planned for the morning
    row = _row(database, leg_id)
    assert row.state == "scheduled" and row.send_after == datetime(2026, 11, 4, 6, 0, tzinfo=timezone.utc)
    assert _plan(fapp, datetime(2026, 11, 4, 6, 0, tzinfo=timezone.utc)) == [row.id]


def test_quiet_hours_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    policy = parse_policy({"defaults": {"quiet_hours": ["21:00", "09:00"]}, "texts": {"en": _texts()}}, berlin)
    qp = policy.default
    # Saturday 28 March 2026 22:30 CET; clocks go forward that night: 09:00 CEST is 07:00 UTC.
    due = datetime(2026, 3, 28, 21, 30, tzinfo=timezone.utc)
    assert policy.send_time(qp, due) == datetime(2026, 3, 29, 7, 0, tzinfo=timezone.utc)
    # Saturday 24 October 2026 23:00 CEST; clocks go back that night: 09:00 CET is 08:00 UTC.
    due = datetime(2026, 10, 24, 21, 0, tzinfo=timezone.utc)
    assert policy.send_time(qp, due) == datetime(2026, 10, 25, 8, 0, tzinfo=timezone.utc)
    assert policy.is_quiet(qp, datetime(2026, 10, 25, 7, 59, tzinfo=timezone.utc))
    assert not policy.is_quiet(qp, datetime(2026, 10, 25, 8, 0, tzinfo=timezone.utc))
    # Early morning waits for the same morning; daytime goes at once.
    assert policy.send_time(qp, datetime(2026, 10, 26, 5, 0, tzinfo=timezone.utc)) == datetime(
        2026, 10, 26, 8, 0, tzinfo=timezone.utc)
    noon = datetime(2026, 10, 26, 11, 0, tzinfo=timezone.utc)
    assert policy.send_time(qp, noon) == noon
    assert policy.send_time(QueuePolicy(quiet_hours=None), noon) == noon


def _texts():
    return {k: k for k in ("intro", "reask", "thanks", "stopped", "closed", "unknown")}


@pytest.mark.parametrize("faults", [["429"], ["500"], ["timeout"], ["429", "500", "timeout"]])
def test_rest_failures_retry_with_back_off(fapp, database, rest, sender, faults):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    rest.fail(*faults)
    for n in range(len(faults)):
        assert _send(fapp, sender, fid, now) == "retry"
        row = _row(database, fid)
        assert row.state == "scheduled" and row.send_after > now            # back-off, not a hot loop
        assert _plan(fapp, now) == []
        now = row.send_after
        assert _plan(fapp, now) == [fid]
    assert _send(fapp, sender, fid, now) == "sent"
    assert len(rest.sent("message")) == 1


@pytest.mark.parametrize("fault", ["500-after-create", "timeout-after-create"])
def test_an_attempt_of_unknown_outcome_is_never_sent_twice(fapp, database, rest, sender, fault):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    rest.fail(fault)
    assert _send(fapp, sender, fid, now) == "retry"        # Twilio did create it; we cannot know yet
    now = _row(database, fid).send_after
    _plan(fapp, now)
    assert _send(fapp, sender, fid, now) == "found"        # looked up at Twilio, not sent again
    assert len(rest.sent("message")) == 1
    assert _row(database, fid).twilio_sid == rest.sent("message")[0].sid


def test_a_worker_killed_mid_send_is_reconciled(fapp, database, rest, sender):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    with database.session() as s:                          # the claim was made, then the worker died
        row = s.get(Followup, fid)
        row.state, row.attempt_started_at, row.send_attempts = "sending", now, 1
    assert _send(fapp, sender, fid, now + timedelta(minutes=6)) == "sent"     # Twilio had nothing: send
    assert _send(fapp, sender, fid, now + timedelta(minutes=7)) == "nothing"
    assert len(rest.sent("message")) == 1


def test_21610_is_never_retried_and_opts_the_number_out(fapp, database, rest, sender):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    rest.fail("21610")
    assert _send(fapp, sender, fid, now) == "failed"
    row = _row(database, fid)
    assert (row.state, row.error_code) == ("failed", 21610)
    with database.session() as s:
        assert s.get(OptOut, NUMBER) is not None
        assert s.get(Leg, leg_id).survey_state == "not-offered"     # never asked: not counted as offered
    assert _plan(fapp, now + timedelta(hours=2)) == []
    assert rest.sent() == []


def test_stop_opts_out_for_good_and_strangers_get_a_polite_answer(fapp, database, rest, sender, twilio_f):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    _send(fapp, sender, fid, now)
    assert "not receive any more" in _sms(twilio_f, "  СТОП ", "SMs1")
    assert _row(database, leg_id).state == "opted-out"
    assert "<Message>" not in _sms(twilio_f, "STOP", "SMs2", OptOutType="STOP")   # Twilio confirms its own
    _, later = _seed(database, at=T0 + timedelta(days=60))
    _plan(fapp, T0 + timedelta(days=60, minutes=20))
    assert _row(database, later).reason == "opted-out"
    assert "does not take messages" in _sms(twilio_f, "hello?", "SMs3", number="+15559990000")
    assert "does not take messages" in _sms(twilio_f, "\x00" * 3 + "💥" * 2000, "SMs4", number="+15559990001")


def test_replies_after_expiry_are_not_stored(fapp, database, rest, sender, twilio_f):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    _send(fapp, sender, fid, now)
    fapp.extensions["followup_clock"] = lambda: now + timedelta(hours=25)
    assert "closed" in _sms(twilio_f, "1", "SMe1")
    assert "closed" in _sms(twilio_f, "1", "SMe2")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
    assert _row(database, leg_id).state == "expired"


def test_call_back_survey_and_machine_detection(fapp, database, rest, sender, twilio_f):
    _, leg_id = _seed(database, queue="tech")
    _, machine_leg = _seed(database, number="+15551230009", queue="tech")
    now = T0 + timedelta(minutes=20)
    for fid in _plan(fapp, now):
        assert _send(fapp, sender, fid, now) == "sent"
    human, machine = rest.sent("call")
    assert human.params["MachineDetection"] == "Enable" and human.params["Url"].startswith(
        "http://localhost/followup/voice/start?fu=") and human.params["Url"].endswith("&lang=en")
    path = human.params["Url"].removeprefix("http://localhost")
    base = {"CallSid": human.sid, "From": "+15005550006", "To": NUMBER, "Direction": "outbound-api",
            "CallStatus": "in-progress"}
    start = twilio_f.post(path, {**base, "AnsweredBy": "human"}).get_data(as_text=True)
    assert "<Gather" in start and "Press 1 for yes" in start
    fid = path.split("fu=")[1]
    r1 = twilio_f.post(f"/followup/voice/answer?fu={fid}&q=0&attempt=1", {**base, "Digits": "7"}).get_data(as_text=True)
    assert "not one of the choices" in r1
    r2 = twilio_f.post(f"/followup/voice/answer?fu={fid}&q=0&attempt=2", {**base, "Digits": "1"}).get_data(as_text=True)
    assert "How satisfied" in r2
    r3 = twilio_f.post(f"/followup/voice/answer?fu={fid}&q=1&attempt=1", {**base, "Digits": "5"}).get_data(as_text=True)
    assert "<Hangup" in r3
    twilio_f.post(human.params["StatusCallback"].removeprefix("http://localhost"),
                  {**base, "CallStatus": "completed", "CallDuration": "40"})
    assert _row(database, leg_id).state == "answered"
    with database.session() as s:
        assert [tuple(r) for r in s.execute(select(SurveyAnswer.question, SurveyAnswer.value, SurveyAnswer.channel)
                                            .where(SurveyAnswer.leg_id == leg_id).order_by(SurveyAnswer.id))] == [
            ("adequate", 1, "callback"), ("satisfaction", 5, "callback")]
    mpath = machine.params["Url"].removeprefix("http://localhost")
    got = twilio_f.post(mpath, {**base, "CallSid": machine.sid, "To": "+15551230009",
                                "AnsweredBy": "machine_start"}).get_data(as_text=True)
    assert "<Gather" not in got and "<Hangup" in got
    assert _row(database, machine_leg).reason == "machine"
    # A forged or mismatched CallSid gets valid TwiML and changes nothing.
    assert "<Gather" not in twilio_f.post(mpath, {**base, "CallSid": "CAforged"}).get_data(as_text=True)


@pytest.mark.parametrize("body,expected", [(" 1 ", 1), ("1.", 1), ("yes", 1), ("Да", 1), ("нет", 2), ("2!", 2),
                                           ("12", None), ("1 2", None), ("maybe", None), ("", None), ("9", None)])
def test_forgiving_yes_no(fapp, body, expected):
    question = fapp.config["SURVEY"].questions[0]
    assert parse_answer(body, question) == expected


def test_an_undelivered_message_was_not_asked_after_all(fapp, database, rest, sender, twilio_f):
    _, leg_id = _seed(database)
    _, blocked = _seed(database, number="+15551230007")
    now = T0 + timedelta(minutes=20)
    for fid in _plan(fapp, now):
        _send(fapp, sender, fid, now)
    lost, stopped = rest.sent("message")
    twilio_f.post("/sms/status", {"MessageSid": lost.sid, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    twilio_f.post("/sms/status", {"MessageSid": stopped.sid, "MessageStatus": "failed", "ErrorCode": "21610"})
    twilio_f.post("/sms/status", {"MessageSid": lost.sid, "MessageStatus": "sent"})          # late and stale
    assert (_row(database, leg_id).state, _row(database, leg_id).twilio_status) == ("failed", "undelivered")
    assert _row(database, blocked).state == "opted-out"
    with database.session() as s:
        assert s.get(Leg, leg_id).survey_state == "not-offered"
        assert s.get(OptOut, "+15551230007") is not None
    assert twilio_f.post("/sms/status", {"MessageSid": "SMunknown", "MessageStatus": "sent"}).status_code == 204


def test_the_worker_refuses_incomplete_follow_up_settings(database):
    from aftercall.followups import FollowupScheduler
    from tests.conftest import make_settings
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        FollowupScheduler(make_settings(database, FOLLOWUPS_ENABLED="1"), database)
    with pytest.raises(ValueError, match="TWILIO_FROM_NUMBER"):
        FollowupScheduler(make_settings(database, FOLLOWUPS_ENABLED="1", PUBLIC_BASE_URL="https://x",
                                        TWILIO_ACCOUNT_SID="AC1"), database)
    assert FollowupScheduler(make_settings(database), database).tick() == 0    # off by default


def test_a_reply_to_a_send_whose_answer_was_lost_is_kept(fapp, database, rest, sender, twilio_f):
    _, leg_id = _seed(database)
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    rest.fail("500-after-create")
    assert _send(fapp, sender, fid, now) == "retry"                 # Twilio created it; we do not know
    assert "How satisfied" in _sms(twilio_f, "1", "SMl1")           # ... but the caller got it and answered
    assert _row(database, leg_id).state == "sent"
    _plan(fapp, _row(database, leg_id).send_after or now)
    assert _send(fapp, sender, fid, now + timedelta(minutes=5)) == "nothing"
    assert len(rest.sent("message")) == 1
    with database.session() as s:
        assert s.get(Leg, leg_id).survey_state == "follow-up"


def test_a_call_back_whose_create_answer_was_lost_still_runs(fapp, database, rest, sender, twilio_f):
    _, leg_id = _seed(database, queue="tech")
    now = T0 + timedelta(minutes=20)
    [fid] = _plan(fapp, now)
    rest.fail("timeout-after-create")
    assert _send(fapp, sender, fid, now) == "retry"
    [made] = rest.sent("call")
    start = twilio_f.post(made.params["Url"].removeprefix("http://localhost"),
                          {"CallSid": made.sid, "From": "+15005550006", "To": NUMBER, "Direction": "outbound-api",
                           "CallStatus": "in-progress", "AnsweredBy": "human"}).get_data(as_text=True)
    assert "<Gather" in start
    assert _row(database, leg_id).twilio_sid == made.sid and _row(database, leg_id).state == "sent"
    assert _send(fapp, sender, fid, now + timedelta(minutes=5)) == "nothing"
    assert len(rest.sent("call")) == 1


def test_a_follow_up_drops_the_scorecard_rollup_of_its_call_day(fapp, database, rest, sender, twilio_f):
    """The day closes 6 h after midnight, before the follow-up goes out the next morning (quiet
    hours): sending it and its answer change that day's counts, so each drops the day's rollup,
    and the next refresh counts it again as the rows give it."""
    from scoring.scorecards.config import load_config
    from scoring.scorecards.rollup import refresh, rolled_tally
    from scoring.scorecards.tally import live_tally
    from store.rollup import ScorecardDay

    late = T0.replace(hour=17)                              # 20:00 in Moscow: quiet hours from 21:00
    _seed(database, at=late)
    morning = late + timedelta(hours=14)                    # 10:00 the next day in Moscow
    ctx = type("Ctx", (), {"db": database, "progress": lambda self, *a: None})()
    day = late.date()

    def rolled() -> bool:
        with database.session() as s:
            return s.get(ScorecardDay, day) is not None

    assert refresh(ctx, now=morning.isoformat())["days"] >= 1 and rolled()
    [fid] = _plan(fapp, morning)
    assert _send(fapp, sender, fid, morning) == "sent" and not rolled()
    refresh(ctx, now=morning.isoformat())
    assert rolled()
    assert "How satisfied" in _sms(twilio_f, "2", "SMd1")
    assert not rolled()
    refresh(ctx, now=(morning + timedelta(minutes=5)).isoformat())
    span = (late - timedelta(hours=17), late + timedelta(hours=7))
    with database.session() as s:
        assert rolled_tally(s, *span, load_config()) == live_tally(s, *span, load_config())
        assert sum(c[1] for c in live_tally(s, *span, load_config()).cells.values()) == 1   # offered, by the follow-up
