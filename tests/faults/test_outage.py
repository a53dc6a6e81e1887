"""A database outage in the middle of calls: everything Twilio tells us meanwhile is kept and
applied once when the database is back; no agent, leg or queue entry is left stuck.

On PostgreSQL the app reaches the server through a TCP proxy this test owns (``proxy.down()``
cuts every connection and refuses new ones, like a killed server); on SQLite the app is
pointed at a dead PostgreSQL URL for the outage. Then: the spool's folder unwritable (the
Redis stream takes over), every target failing (the log line, replayed by ``flask spool
replay-log``), and the reconciliation with Twilio's REST API for what never reached us.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select, update

from aftercall import reconcile
from aftercall.app import create_app
from aftercall.followups import late_reply_job
from aftercall.jobs import SpoolReplayer
from callflow.agents import create_agent
from emulator.twilio_rest import FakeTwilioRest
from store.agents import Agent
from store.base import utcnow
from store.calls import Call, Leg, QueueEntry, SurveyAnswer, WebhookEvent
from store.db import Database
from store.jobs import Job
from store.spool import SPOOL_LOST_MARK, Spool
from survey import followups
from tests.conftest import AUTH_TOKEN, REDIS_URL, TwilioClient, make_settings
from tests.faults.proxy import TcpProxy
from tests.followups.conftest import fapp, rest, sender, twilio_f  # noqa: F401  (fixtures)
from tests.followups.test_followups import NUMBER, T0, _plan, _row, _seed, _send, _sms
from tests.voice.driver import ScriptedCall, answers
from webhooks import outage as outage_replay

DEAD_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
ENDED = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)   # the driver's status Timestamp


class Outage:
    """``down(app)`` / ``up(app)``: the app's database unreachable, then back."""

    def __init__(self, database: Database):
        self.database, self.proxy, self.dead = database, None, Database(DEAD_URL)
        if database.url.startswith("postgresql"):
            self.proxy = TcpProxy("127.0.0.1", 5432)
            port = self.proxy.up()
            self.app_db = Database(re.sub(r"@127\.0\.0\.1:5432/", f"@127.0.0.1:{port}/", database.url)
                                   + "?connect_timeout=2")
        else:
            self.app_db = database

    def down(self, app) -> None:
        if self.proxy:
            self.proxy.down()
        else:
            app.extensions["db"] = self.dead

    def up(self, app) -> None:
        if self.proxy:
            self.proxy.up()
        else:
            app.extensions["db"] = self.app_db

    def close(self) -> None:
        if self.proxy:
            self.proxy.down()
            self.app_db.dispose()
        self.dead.dispose()


@pytest.fixture
def outage(database):
    o = Outage(database)
    yield o
    o.close()


def make_app(database, app_db, tmp_path, **env):
    app = create_app(make_settings(database, **{"ANSWER_SPOOL_DIR": str(tmp_path / "spool"), **env}), db=app_db)
    app.config["TESTING"] = True
    with database.session() as s:
        for agent in ("alice", "bob", "carol"):
            create_agent(s, {"id": agent, "skills": ["billing", "general"], "presence": "available"},
                         app.config["MENU"].queues)
    return app


def presence(database) -> dict[str, str]:
    with database.session() as s:
        return {a.id: a.presence for a in s.scalars(select(Agent))}


def leg_of(database, sid: str) -> Leg:
    with database.session() as s:
        return s.scalar(select(Leg).where(Leg.call_sid == sid))


def reserved_caller(twilio, sid: str) -> ScriptedCall:
    """A caller whose agent is reserved (the wait URL said "leave"), not yet dialled."""
    call = ScriptedCall(twilio, sid)
    call.incoming()
    call.press("1")
    call.press("1")
    call.wait()
    assert call.has("Leave")
    return call


def test_an_outage_loses_nothing_and_leaves_nobody_busy(database, outage, tmp_path):
    app = make_app(database, outage.app_db, tmp_path)
    twilio = TwilioClient(app.test_client())
    a, b = ScriptedCall(twilio, "CAa"), ScriptedCall(twilio, "CAb")
    dial_a, dial_b = a.to_agent(), b.to_agent()
    c = reserved_caller(twilio, "CAc")
    assert presence(database) == {"alice": "busy", "bob": "busy", "carol": "busy"}

    outage.down(app)
    a.end_dial(dial_a, agent_hung_up=True)          # the agent hung up: the survey starts anyway
    assert "answered adequately" in a.said()
    a.end_dial(dial_a, agent_hung_up=True)                         # Twilio's duplicate delivery
    for digits in ("1", "4", "2"):
        a.press(digits)
    assert a.has("Hangup") and "Thank you" in a.said()
    a.status(duration=300)
    b.end_dial(dial_b, agent_hung_up=False)         # the caller hung up on the agent
    assert b.has("Hangup")
    b.status(duration=200)
    c.status(duration=30)                          # the reserved caller hung up
    # Nothing reached the database: agents still busy, legs open, the entry reserved.
    assert presence(database) == {"alice": "busy", "bob": "busy", "carol": "busy"}
    assert leg_of(database, "CAa").ended_at is None and answers(database, "CAa") == {}

    outage.up(app)
    ScriptedCall(twilio, "CAd").incoming()         # the next webhook that reaches the database replays
    assert presence(database) == {"alice": "available", "bob": "available", "carol": "available"}
    leg_a, leg_b = leg_of(database, "CAa"), leg_of(database, "CAb")
    assert (leg_a.dial_status, leg_a.ended_by, leg_a.talk_seconds, leg_a.survey_state) == \
        ("completed", "agent", 120, "finished")
    assert (leg_b.dial_status, leg_b.ended_by, leg_b.talk_seconds) == ("completed", "caller", 120)
    assert answers(database, "CAa") == {"adequate": (1, "answered", leg_a.agent_id),
                                        "satisfaction": (4, "answered", leg_a.agent_id),
                                        "anything_else": (2, "answered", leg_a.agent_id)}
    with database.session() as s:
        calls = {c.sid: (c.status, c.duration, c.ended_at) for c in s.scalars(select(Call))}
        assert calls["CAa"] == ("completed", 300, ENDED) and calls["CAb"] == ("completed", 200, ENDED)
        assert calls["CAc"] == ("completed", 30, ENDED)
        assert s.scalars(select(QueueEntry.state).where(QueueEntry.call_sid == "CAc")).all() == ["abandoned"]
        assert s.scalar(select(func.count()).select_from(QueueEntry).where(
            QueueEntry.state.in_(["waiting", "reserved"]))) == 0
        assert s.scalar(select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.call_sid == "CAa", WebhookEvent.step.like("dial-done:%"))) == 1
    spool = app.extensions["answer_spool"]
    assert not [p for p in spool.dir.iterdir() if not p.name.startswith("rejected-")]
    assert outage_replay.replay(app) == 0           # nothing left, nothing applied twice
    # Twilio retrying the Dial action now gets the answer the replay stored, and changes nothing.
    assert twilio.post(dial_a.get("action"), {"CallSid": "CAa", "CallStatus": "in-progress",
                                              "DialCallStatus": "completed"}).status_code == 200
    assert answers(database, "CAa")["satisfaction"][0] == 4
    assert presence(database)["alice"] == "available"


def test_follow_up_answers_given_during_an_outage_are_kept(fapp, database, rest, sender, twilio_f):  # noqa: F811
    _, sms_leg = _seed(database)
    _, call_leg = _seed(database, number="+15551230009", queue="tech")
    now = T0 + timedelta(minutes=20)
    for fid in _plan(fapp, now):
        assert _send(fapp, sender, fid, now) == "sent"
    [human], [msg] = rest.sent("call"), rest.sent("message")
    base = {"CallSid": human.sid, "From": "+15005550006", "To": "+15551230009", "CallStatus": "in-progress"}
    start = twilio_f.post(human.params["Url"].removeprefix("http://localhost"), {**base, "AnsweredBy": "human"})
    action = re.search(r'action="([^"]+)"', start.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert "lang=en" in action

    live, dead = fapp.extensions["db"], Database(DEAD_URL)
    fapp.extensions["db"] = dead
    try:
        reply = _sms(twilio_f, " yes ", "SMout1")                  # never a 500: Twilio does not retry it
        assert reply.strip().endswith("<Response />")
        assert twilio_f.post("/sms/status", {"MessageSid": msg.sid, "MessageStatus": "delivered"}).status_code == 204
        said = twilio_f.post(action, {**base, "Digits": "1"}).get_data(as_text=True)
        assert "Thank you" in said and "<Hangup" in said              # thanked, not cut off
        twilio_f.post(human.params["StatusCallback"].removeprefix("http://localhost"),
                      {**base, "CallStatus": "completed", "CallDuration": "30"})
    finally:
        fapp.extensions["db"] = live
        dead.dispose()
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyAnswer)) == 0

    assert outage_replay.replay(fapp) == 4
    assert _row(database, sms_leg).twilio_status == "delivered"
    with database.session() as s:
        got = {(a.leg_id, a.question, a.value, a.channel) for a in s.scalars(select(SurveyAnswer))}
    assert got == {(sms_leg, "adequate", 1, "sms"), (call_leg, "adequate", 1, "callback")}
    assert _row(database, call_leg).state != "sent"                   # the call's end was applied too
    # The next question, which Twilio could not be answered with, goes out once as a message of its own.
    policy, fu = fapp.config["FOLLOWUPS"].policy, _row(database, sms_leg)
    with database.session() as s:
        [late] = s.scalars(select(Job).where(Job.func == late_reply_job.job_name)).all()
        job_id, kwargs = late.id, dict(late.kwargs)
    assert kwargs == {"message_sid": "SMout1", "to": NUMBER, "body": policy.text(fu.language, f"q_{fu.questions[1]}")}
    late_reply = partial(followups.send_late_reply, database, sender, fapp.config["FOLLOWUPS"].urls, job_id,
                         to=NUMBER, body=kwargs["body"], now=now)
    assert late_reply() == "sent"
    assert late_reply() == "found"                                    # a retry of unknown outcome: not again
    assert [m.params["Body"] for m in rest.sent("message")[1:]] == [kwargs["body"]]
    assert "Thank you" in _sms(twilio_f, "4", "SMout2")              # the next reply goes on from there
    assert outage_replay.replay(fapp) == 0
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.func == late_reply_job.job_name)) == 1
    assert _row(database, sms_leg).state == "answered"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyAnswer).where(SurveyAnswer.leg_id == sms_leg)) == 2


def test_a_follow_up_call_started_during_an_outage_is_kept(fapp, database, rest, sender, twilio_f):  # noqa: F811
    _, call_leg = _seed(database, number="+15551230009", queue="tech")
    now = T0 + timedelta(minutes=20)
    for fid in _plan(fapp, now):
        _send(fapp, sender, fid, now)
    [machine] = rest.sent("call")
    start = machine.params["Url"].removeprefix("http://localhost")
    base = {"CallSid": machine.sid, "From": "+15005550006", "To": "+15551230009", "CallStatus": "in-progress"}

    live, dead = fapp.extensions["db"], Database(DEAD_URL)
    fapp.extensions["db"] = dead
    try:
        to_machine = twilio_f.post(start, {**base, "AnsweredBy": "machine_start"}).get_data(as_text=True)
        assert "<Hangup" in to_machine and "<Say" not in to_machine
        to_person = twilio_f.post("/followup/voice/start?fu=999999", {**base, "AnsweredBy": "human"})
        assert "Sorry" in to_person.get_data(as_text=True) and b"<Hangup" in to_person.data   # told, not cut off
        in_russian = twilio_f.post("/followup/voice/start?fu=999998&lang=ru", {**base, "AnsweredBy": "human"})
        assert "Извините" in in_russian.get_data(as_text=True)                  # in the follow-up's language
    finally:
        fapp.extensions["db"] = live
        dead.dispose()
    assert _row(database, call_leg).state == "sent"

    assert outage_replay.replay(fapp) == 1                      # the unknown follow-ups are set aside
    fu = _row(database, call_leg)
    assert (fu.state, fu.reason) == ("no-answer", "machine")     # as the live start would have left it
    assert outage_replay.replay(fapp) == 0


@pytest.fixture
def stream():
    name = f"aftercall:test-spool:{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(REDIS_URL)
    yield name, redis
    redis.delete(name)


def unwritable(tmp_path) -> str:
    """A spool folder that cannot be created (its parent is a file), even for root."""
    (tmp_path / "not-a-dir").write_text("")
    return str(tmp_path / "not-a-dir" / "spool")


def survey_in_outage(app, twilio, outage, sid: str) -> ScriptedCall:
    call = ScriptedCall(twilio, sid)
    dial = call.to_agent()
    outage.down(app)
    call.end_dial(dial, agent_hung_up=True)
    for digits in ("2", "5", "1"):
        call.press(digits)
    call.status(duration=240)
    outage.up(app)
    return call


def test_an_unwritable_spool_folder_falls_back_to_the_redis_stream(database, outage, tmp_path, stream):
    name, redis = stream
    app = make_app(database, outage.app_db, tmp_path, ANSWER_SPOOL_DIR=unwritable(tmp_path), REDIS_URL=REDIS_URL,
                   SPOOL_REDIS_STREAM=name)
    survey_in_outage(app, TwilioClient(app.test_client()), outage, "CAr")
    assert redis.xlen(name) == 5                      # the leg's end, three answers, the call's end
    # The worker drains the stream (another box's web process wrote it: no web request needed).
    assert SpoolReplayer(app.config["SETTINGS"], database, app).tick() == 5
    assert redis.xlen(name) == 0
    leg = leg_of(database, "CAr")
    assert leg.ended_by == "agent" and leg.survey_state == "finished"
    assert answers(database, "CAr") == {"adequate": (2, "answered", leg.agent_id),
                                        "satisfaction": (5, "answered", leg.agent_id),
                                        "anything_else": (1, "answered", leg.agent_id)}
    assert set(presence(database).values()) == {"available"}


def test_two_processes_draining_the_stream_at_once_apply_each_record_once(tmp_path, stream):
    name, redis = stream
    writer = Spool(tmp_path / "unused", REDIS_URL, name)
    for n in range(40):
        redis.xadd(name, {"r": json.dumps({"n": n, "spooled_at": f"2026-11-20T10:00:{n:02d}+00:00"})})
    applied, started = [], threading.Barrier(2)

    def slow_apply(rec):                                   # a database write's worth of time each
        applied.append(rec["n"])
        time.sleep(0.01)
        return "stored"

    def drain():
        started.wait()
        Spool(tmp_path / "unused", REDIS_URL, name).replay(slow_apply)

    hosts = [threading.Thread(target=drain) for _ in range(2)]
    for t in hosts:
        t.start()
    for t in hosts:
        t.join()
    assert sorted(applied) == list(range(40)) and applied == sorted(applied)   # each once, in order
    assert redis.xlen(name) == 0 and not redis.exists(f"{name}:drain")
    assert writer.replay(slow_apply) == 0


def test_when_every_target_fails_the_log_line_is_replayed_by_the_command(database, outage, tmp_path, caplog):
    app = make_app(database, outage.app_db, tmp_path, ANSWER_SPOOL_DIR=unwritable(tmp_path),
                   REDIS_URL="redis://127.0.0.1:1/0")
    with caplog.at_level(logging.CRITICAL, logger="store.spool"):
        survey_in_outage(app, TwilioClient(app.test_client()), outage, "CAl")
    lost = [r.getMessage() for r in caplog.records if SPOOL_LOST_MARK in r.getMessage()]
    assert len(lost) == 5 and all("CAl" in line for line in lost)
    assert any('"question": "satisfaction", "value": 5' in line for line in lost)
    logfile = tmp_path / "web.log"
    logfile.write_text("unrelated line\n" + "\n".join(f"2026-12-07 CRITICAL store.spool {m}" for m in lost) + "\n")
    runner = app.test_cli_runner()
    for _ in range(2):                                # twice: still applied once
        result = runner.invoke(args=["spool", "replay-log", str(logfile)])
        assert result.exit_code == 0, result.output
        assert "found 5, applied 5" in result.output
    leg = leg_of(database, "CAl")
    assert (leg.ended_by, leg.survey_state) == ("agent", "finished")
    assert {q: v for q, (v, _, _) in answers(database, "CAl").items()} == \
        {"adequate": 2, "satisfaction": 5, "anything_else": 1}
    assert set(presence(database).values()) == {"available"}


ACCOUNT = "AC" + "2" * 32


def test_reconciliation_settles_what_never_reached_us_from_twilio(database, tmp_path, caplog):
    app = make_app(database, database, tmp_path)
    twilio = TwilioClient(app.test_client())
    ended, lost = ScriptedCall(twilio, "CAend"), ScriptedCall(twilio, "CAghost")
    ended.to_agent()
    lost.to_agent()
    reserved_caller(twilio, "CAlive")
    ScriptedCall(twilio, "CAnew").incoming()                    # recent: not touched
    with database.session() as s:                               # five hours ago, all of it
        long_ago = utcnow() - timedelta(hours=5)
        s.execute(update(Call).where(Call.sid != "CAnew").values(created_at=long_ago))
        for model in (Leg, QueueEntry):
            s.execute(update(model).where(model.call_sid != "CAnew").values(created_at=long_ago))
        s.add(Agent(id="dave", name="dave", skills=["general"], presence="busy", presence_changed_at=long_ago))
    assert presence(database) == {"alice": "busy", "bob": "busy", "carol": "busy", "dave": "busy"}
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN) as rest:
        rest.call_is("CAend", "completed", 600, ENDED)
        rest.call_is("CAlive", "in-progress")                    # CAghost: Twilio never heard of it
        settings = make_settings(database, TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_API_BASE_URL=rest.url)
        with caplog.at_level(logging.INFO, logger="aftercall.reconcile"):
            counts = reconcile.Reconciler(settings, database).tick()
        assert counts == {"closed": 2, "legs-ended": 1, "live": 0, "unreachable": 0, "agents-freed": 1}
        assert [r.getMessage() for r in caplog.records if "reconciled" in r.getMessage()] == [
            f"reconciled 3 stuck calls with Twilio: {counts}"]
        assert reconcile.run(database, reconcile.lookup(settings), utcnow(), timedelta(hours=4))["live"] == 1
    assert presence(database) == {"alice": "available", "bob": "available", "carol": "available",
                                  "dave": "available"}
    with database.session() as s:
        calls = {c.sid: (c.status, c.duration) for c in s.scalars(select(Call))}
        assert calls["CAend"] == ("completed", 600) and calls["CAghost"][0] == "canceled"
        assert calls["CAlive"][0] == "in-progress" and calls["CAnew"][0] != "canceled"
        assert s.scalar(select(func.count()).select_from(Leg).where(Leg.ended_at.is_(None))) == 0
        assert s.scalars(select(QueueEntry.state).where(QueueEntry.call_sid == "CAlive")).all() == ["waiting"]


def test_the_callers_words_and_their_callbacks_during_an_outage_are_kept(database, outage, tmp_path):
    from store.recordings import Recording
    from tests.voice.test_words import recording, words_survey
    app = make_app(database, outage.app_db, tmp_path, SURVEY_FILE=str(words_survey(tmp_path)))
    call = ScriptedCall(TwilioClient(app.test_client()), "CAw")
    dial = call.to_agent()
    outage.down(app)
    call.end_dial(dial, agent_hung_up=True)
    call.press("2")                                  # "no": the caller is asked for their words
    record = call.find("Record")
    call.post(record.get("action"), **recording(), RecordingDuration=12, Digits="#")
    assert "from 1 to 5" in call.said()              # the survey goes on offline
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="completed", RecordingDuration=12)
    call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="completed",
              TranscriptionText="My refund never arrived", TranscriptionSid="TR1")
    outage.up(app)
    assert outage_replay.replay(app) == 5
    with database.session() as s:
        [row] = s.scalars(select(Recording)).all()
        assert (row.call_sid, row.status, row.duration, row.transcription_text) == \
            ("CAw", "completed", 12, "My refund never arrived")
    assert answers(database, "CAw")["adequate"][0] == 2


def test_a_replay_out_of_time_keeps_the_rest_in_order(tmp_path, stream):
    """A web request replays for a bounded time (Twilio waits 15 s): what it had no time for,
    from the folder or the stream, stays kept and the next replay applies it, in order, once."""
    from store.spool import Spool
    name, redis = stream
    spool = Spool(tmp_path / "spool", REDIS_URL, name)
    for n in range(2):
        assert spool.append({"n": n}) == "disk"
    spool.dir = Path(unwritable(tmp_path))
    for n in range(2, 4):
        assert spool.append({"n": n}) == "redis"
    spool.dir = tmp_path / "spool"
    seen = []

    def slow(rec):
        seen.append(rec["n"])
        time.sleep(0.2)
        return "stored"

    first = spool.replay(slow, seconds=0.3)
    assert 0 < first < 4 and seen == list(range(first))
    assert spool.replay(slow) == 4 - first
    assert seen == [0, 1, 2, 3] and redis.xlen(name) == 0
    assert not list(spool.dir.glob("answers-*")) and not list(spool.dir.glob("claimed-*"))
