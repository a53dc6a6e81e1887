"""Database down, slow or cut mid-call: the caller hears a sane path and no answer is lost.

The database is made unavailable for real: the app is pointed at a PostgreSQL URL where
nothing listens, a table is locked by another session (slow), or the app's own backend is
terminated in the middle of a webhook's transaction.
"""
from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import psycopg
import pytest
from sqlalchemy import func, select

from callflow.agents import create_agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer, WebhookEvent
from store.db import Database
from tests.conftest import TwilioClient, make_settings, postgresql_only
from tests.voice.driver import ScriptedCall
from aftercall.app import create_app

DEAD_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
BASE_PARAMS = {"AccountSid": "AC" + "0" * 32, "From": "+15550001111", "To": "+15559990000",
               "CallStatus": "in-progress"}


@pytest.fixture
def app(database, tmp_path):
    app = create_app(make_settings(database, ANSWER_SPOOL_DIR=str(tmp_path / "spool")), db=database)
    app.config.update(TESTING=True)
    with database.session() as s:
        create_agent(s, {"id": "alice", "skills": ["billing", "general"], "presence": "available"},
                     app.config["MENU"].queues)
    return app


@pytest.fixture
def twilio(app):
    return TwilioClient(app.test_client())


@pytest.fixture
def dead_db():
    db = Database(DEAD_URL)
    yield db
    db.dispose()


def doc(resp) -> ET.Element:
    assert resp.status_code == 200
    root = ET.fromstring(resp.data)
    assert root.tag == "Response"
    return root


def said(root) -> str:
    return " ".join(s.text or "" for s in root.iter("Say"))


def count(database, model) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def at_survey(twilio, sid: str) -> ScriptedCall:
    call = ScriptedCall(twilio, sid)
    call.end_dial(call.to_agent(), agent_hung_up=True)
    assert "answered adequately" in call.said()
    return call


def test_every_webhook_answers_a_sane_path_with_no_database(dead_db, database, tmp_path):
    app = create_app(make_settings(database, ANSWER_SPOOL_DIR=str(tmp_path / "spool")), db=dead_db)
    twilio = TwilioClient(app.test_client())
    p = {"CallSid": "CAdown", **BASE_PARAMS}
    incoming = doc(twilio.post("/voice/incoming", p))
    assert incoming.find("Enqueue").text == "general" and "sorry" in said(incoming)   # queued, not dropped
    for path in ("/voice/language?attempt=1", "/voice/menu?attempt=1&lang=ru"):
        assert doc(twilio.post(path, {**p, "Digits": "1"})).find("Enqueue") is not None
    chose_russian = doc(twilio.post("/voice/language?attempt=1", {**p, "Digits": "2"}))   # the apology in Russian
    assert chose_russian.find("Say").get("language") == "ru-RU" and "lang=ru" in chose_russian.find("Enqueue").get("action")
    assert doc(twilio.post("/voice/queue/wait?lang=en", {**p, "QueueTime": "5"})).find("Pause") is not None
    assert doc(twilio.post("/voice/queue/done?lang=en", {**p, "QueueResult": "leave"})).find("Hangup") is not None
    # The agent hung up on a caller still there: the survey starts from the URL (the leg's end is kept).
    assert "leg=7" in doc(twilio.post("/voice/dial/done?leg=7&lang=en", {**p, "DialCallStatus": "completed"})) \
        .find("Gather").get("action")
    assert doc(twilio.post("/voice/dial/done?leg=7&lang=en", {**p, "CallStatus": "completed",
                                                              "DialCallStatus": "completed"})).find("Hangup") is not None
    assert doc(twilio.post("/voice/dial/done?leg=7&lang=en", {**p, "DialCallStatus": "no-answer"})) \
        .find("Enqueue").text == "general"                                           # the agent never answered
    survey = doc(twilio.post("/voice/survey?leg=7&q=0&attempt=1&lang=en", {**p, "Digits": "1"}))
    assert "from 1 to 5" in said(survey) and "q=1" in survey.find("Gather").get("action")
    assert len(doc(twilio.post("/voice/status", {**p, "CallStatus": "completed"}))) == 0


def test_answers_given_while_the_database_is_down_are_replayed_once(app, twilio, database, dead_db):
    call = at_survey(twilio, "CA300")
    with database.session() as s:
        before = [(c.sid, c.status, c.language) for c in s.scalars(select(Call))]
        events = count(database, WebhookEvent)
    app.extensions["db"] = dead_db                 # the database goes away mid-survey
    call.press("2")
    assert "from 1 to 5" in call.said()            # the survey goes on
    call.press("7")
    assert "not one of the choices" in call.said()  # re-prompt works offline too
    call.press("4")
    call.press("2")
    assert call.has("Hangup") and "Thank you" in call.said()
    assert count(database, SurveyAnswer) == 0
    spool = app.extensions["answer_spool"]
    kept = list(spool.dir.glob("answers-*.jsonl"))
    assert len(kept) == 1 and len(kept[0].read_text().splitlines()) == 3
    duplicate = kept[0].read_bytes()

    app.extensions["db"] = database                # back: the next webhook replays the spool
    ScriptedCall(twilio, "CA301").incoming()
    with database.session() as s:
        got = {a.question: (a.value, a.status, a.agent_id) for a in s.scalars(select(SurveyAnswer))}
        assert s.scalar(select(Leg).where(Leg.call_sid == "CA300")).survey_state == "finished"
        assert [(c.sid, c.status, c.language) for c in s.scalars(select(Call)) if c.sid == "CA300"] == before
    assert got == {"adequate": (2, "answered", "alice"), "satisfaction": (4, "answered", "alice"),
                   "anything_else": (2, "answered", "alice")}
    assert count(database, WebhookEvent) == events + 1  # only CA301's incoming: nothing half-written
    assert not list(spool.dir.glob("answers-*")) and not list(spool.dir.glob("claimed-*"))

    (spool.dir / "answers-99999.jsonl").write_bytes(duplicate)   # the same lines again: counted once
    spool.pending = True
    assert spool.replay_if_pending(database) == 3
    assert count(database, SurveyAnswer) == 3


def test_a_leg_end_kept_during_an_outage_ends_when_twilio_sent_it(app, twilio, database, dead_db):
    call = ScriptedCall(twilio, "CA310")
    dial = call.to_agent()
    sent = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    app.extensions["followup_clock"] = lambda: sent           # the Dial action comes while the database is down
    app.extensions["db"] = dead_db
    call.end_dial(dial, agent_hung_up=True)
    assert "answered adequately" in call.said()               # the survey starts from the URL
    app.extensions["db"] = database
    del app.extensions["followup_clock"]
    ScriptedCall(twilio, "CA311").incoming()                  # back: the next webhook replays it, later
    with database.session() as s:
        leg = s.scalar(select(Leg).where(Leg.call_sid == "CA310"))
        assert (leg.dial_status, leg.talk_seconds, leg.survey_state) == ("completed", 120, "offered")
        assert leg.ended_at.replace(tzinfo=timezone.utc) == sent  # when it came, not when it was applied


def test_a_leg_the_call_status_closes_ends_at_twilios_timestamp(app, twilio, database):
    call = ScriptedCall(twilio, "CA312")
    call.to_agent()
    ended = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)
    call.status("completed", duration=300, at=ended)           # the caller hung up; no Dial action came
    with database.session() as s:
        leg = s.scalar(select(Leg).where(Leg.call_sid == "CA312"))
        assert leg.ended_by == "caller" and leg.ended_at.replace(tzinfo=timezone.utc) == ended


def test_spooled_lines_for_unknown_legs_are_kept_aside_not_lost(app, database, tmp_path):
    from survey.spool import AnswerSpool
    spool = AnswerSpool(tmp_path / "s")
    spool.append({"leg_id": 424242, "call_sid": "CAghost", "survey_version": "v", "question": "adequate",
                  "value": 1, "status": "answered"})
    assert spool.replay(database) == 0
    rejected = list(spool.dir.glob("rejected-*.jsonl"))
    assert len(rejected) == 1 and "CAghost" in rejected[0].read_text()


@postgresql_only
def test_slow_database_times_out_into_the_fallback(database, tmp_path, pg_url):
    """A table locked by another session: with lock_timeout in DATABASE_URL the caller is not held."""
    slow = Database(pg_url + "?options=-c%20lock_timeout%3D300%20-c%20statement_timeout%3D2000")
    app = create_app(make_settings(database, ANSWER_SPOOL_DIR=str(tmp_path / "spool")), db=slow)
    twilio = TwilioClient(app.test_client())
    with psycopg.connect(pg_url.replace("+psycopg", "")) as locker:
        locker.execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
        root = doc(twilio.post("/voice/incoming", {"CallSid": "CAslow", **BASE_PARAMS}))
        assert root.find("Enqueue").text == "general"
    slow.dispose()
    assert count(database, Call) == 0


@postgresql_only
def test_connection_killed_mid_transaction_changes_nothing_and_the_retry_works(app, twilio, database):
    call = at_survey(twilio, "CA400")
    gather = call.find("Gather").get("action")
    with database.session() as s:
        leg_before = s.scalar(select(Leg)).survey_state
    killed = []
    admin_url = database.url.replace("+psycopg", "")

    def kill_the_blocked_answer(locker_pid: int):
        """Terminate the backend once its statement waits on the answers table: the step
        record is written, the answer not yet, nothing committed. (Never found: end the
        locker instead, so the request goes through and the test fails rather than hangs.)"""
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for _ in range(500):
                pid = admin.execute("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND query LIKE '%INSERT INTO survey_answers%'").fetchone()
                if pid:
                    admin.execute("SELECT pg_terminate_backend(%s)", pid)
                    killed.append(pid[0])
                    return
                time.sleep(0.01)
            admin.execute("SELECT pg_terminate_backend(%s)", (locker_pid,))

    with psycopg.connect(admin_url) as locker:
        locker.execute("LOCK TABLE survey_answers IN SHARE MODE")     # INSERTs wait until the rollback
        killer = threading.Thread(target=kill_the_blocked_answer, args=(locker.info.backend_pid,))
        killer.start()
        root = doc(twilio.post(gather, {"CallSid": "CA400", **BASE_PARAMS, "Digits": "1"}))
        killer.join()
        locker.rollback()
    assert killed and "from 1 to 5" in said(root)       # the caller went on; the answer was spooled
    assert count(database, SurveyAnswer) == 0           # the cut transaction left nothing behind
    with database.session() as s:
        assert s.scalar(select(Leg)).survey_state == leg_before
        assert s.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.step.like("survey:%"))) == 0
    # A duplicate delivery of the same step now succeeds normally; the spool adds nothing twice.
    doc(twilio.post(gather, {"CallSid": "CA400", **BASE_PARAMS, "Digits": "1"}))
    ScriptedCall(twilio, "CA401").incoming()
    with database.session() as s:
        assert [(a.question, a.value) for a in s.scalars(select(SurveyAnswer))] == [("adequate", 1)]
    assert count(database, QueueEntry) >= 1


def spool_three_answers(app, twilio, database, dead_db, sid: str):
    """A caller answers the whole survey while the database is away: three spooled lines."""
    call = at_survey(twilio, sid)
    app.extensions["db"] = dead_db
    for digits in ("1", "5", "2"):
        call.press(digits)
    assert call.has("Hangup") and count(database, SurveyAnswer) == 0
    app.extensions["db"] = database
    return app.extensions["answer_spool"]


def test_the_worker_replays_the_spool_without_any_further_web_request(app, twilio, database, dead_db):
    from aftercall import jobs
    spool = spool_three_answers(app, twilio, database, dead_db, "CA500")
    settings = app.config["SETTINGS"].__class__.from_env(
        {"DATABASE_URL": database.url, "ANSWER_SPOOL_DIR": str(spool.dir), "ANSWER_SPOOL_REPLAY_SECONDS": "1"})
    stop = threading.Event()
    worker = threading.Thread(target=jobs.work, args=(settings, database, stop), kwargs={"poll": 0.05})
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while count(database, SurveyAnswer) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
    with database.session() as s:
        assert {a.question: a.value for a in s.scalars(select(SurveyAnswer))} == \
            {"adequate": 1, "satisfaction": 5, "anything_else": 2}
        assert s.scalar(select(Leg).where(Leg.call_sid == "CA500")).survey_state == "finished"
    assert not list(spool.dir.glob("answers-*")) and not list(spool.dir.glob("claimed-*"))


def test_a_worker_replay_while_the_database_is_still_down_keeps_every_line(app, twilio, database, dead_db):
    from aftercall import jobs
    spool = spool_three_answers(app, twilio, database, dead_db, "CA501")
    settings = app.config["SETTINGS"]
    assert jobs.SpoolReplayer(settings, dead_db).tick() == 0          # fails, logged, nothing lost
    waiting = list(spool.dir.glob("answers-*"))
    assert sum(len(p.read_text().splitlines()) for p in waiting) == 3 and not list(spool.dir.glob("claimed-*"))
    stop = threading.Event()                                          # the worker loop survives the outage
    worker = threading.Thread(target=jobs.work, args=(settings, dead_db, stop), kwargs={"poll": 0.05})
    worker.start()
    worker.join(1.5)
    assert worker.is_alive()
    stop.set()
    worker.join(10)
    assert jobs.SpoolReplayer(settings, database).tick() == 3          # back: stored once
    assert jobs.SpoolReplayer(settings, database).tick() == 0
    assert count(database, SurveyAnswer) == 3


def test_a_duplicate_status_callback_whose_reread_finds_the_database_gone_answers_its_fallback(
        app, twilio, database, monkeypatch):
    """Two deliveries of one status callback race: the second's insert hits the first's row, and
    the database dies before it can read the stored answer back: still 200 TwiML, nothing doubled."""
    from sqlalchemy.exc import OperationalError
    from webhooks import replay
    call = ScriptedCall(twilio, "CA7001")
    call.incoming()
    params = {**BASE_PARAMS, "CallSid": "CA7001", "CallStatus": "completed", "CallDuration": "30",
              "SequenceNumber": "4"}
    doc(twilio.post("/voice/status", params))
    reads = []
    stored = replay._stored

    def racing(session, call_sid, step):
        reads.append(step)
        if len(reads) == 1:
            return None                                   # the first delivery has not committed yet
        raise OperationalError("SELECT webhook_events", {}, Exception("server closed the connection"))
    monkeypatch.setattr(replay, "_stored", racing)
    doc(twilio.post("/voice/status", params))
    assert len(reads) == 2                                # it did insert, collide and re-read
    monkeypatch.setattr(replay, "_stored", stored)
    assert count(database, WebhookEvent) == 2             # the incoming step and one status step
