"""The survey answer's hot path: one statement on PostgreSQL, same TwiML and same idempotency
as the full handler, duplicates (also concurrent ones) counted once; engine settings."""
from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET

import psycopg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

import store.base
from callflow.agents import create_agent
from store.calls import Leg, SurveyAnswer, WebhookEvent
from store.db import Database
from tests.conftest import TwilioClient
from tests.voice.driver import ScriptedCall

BASE = {"AccountSid": "AC" + "0" * 32, "From": "+15550001111", "To": "+15559990000", "CallStatus": "in-progress"}


@pytest.fixture
def agents(database, app):
    with database.session() as s:
        for name in ("alice", "bob", "carol"):
            create_agent(s, {"id": name, "skills": ["billing", "general"], "presence": "available"},
                         app.config["MENU"].queues)


def at_survey(twilio, sid: str) -> ScriptedCall:
    call = ScriptedCall(twilio, sid)
    call.end_dial(call.to_agent(), agent_hung_up=True)
    return call


def count(database, model) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model))


class Statements:
    """Every statement sent while active, seen where it is sent: by the driver's cursor on
    PostgreSQL (the hot path bypasses SQLAlchemy's Connection), by SQLAlchemy on SQLite."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []
        self.pg = engine.dialect.name == "postgresql"
        seen = self.seen

        class Counting(psycopg.Cursor):
            def execute(self, query, *args, **kwargs):
                seen.append(" ".join(str(query).split()))
                return super().execute(query, *args, **kwargs)

        self.counting = Counting

    def __enter__(self):
        if self.pg:
            event.listen(self.engine, "checkout", self._count_on)
            event.listen(self.engine, "checkin", self._count_off)
        else:
            event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.seen

    def __exit__(self, *exc):
        if self.pg:
            event.remove(self.engine, "checkout", self._count_on)
            event.remove(self.engine, "checkin", self._count_off)
        else:
            event.remove(self.engine, "before_cursor_execute", self._seen)

    def _count_on(self, dbapi_conn, record, proxy):
        dbapi_conn.cursor_factory = self.counting

    def _count_off(self, dbapi_conn, record):
        if dbapi_conn is not None:
            dbapi_conn.cursor_factory = psycopg.Cursor

    def _seen(self, conn, cursor, statement, *_):
        self.seen.append(" ".join(statement.split()))


def test_a_survey_answer_is_one_statement_on_postgresql(twilio, database, agents):
    call = at_survey(twilio, "CA700")
    for digits in ("1", "4", "2"):
        with Statements(database.engine) as seen:
            call.press(digits)
        if database.engine.dialect.name == "postgresql":
            assert len(seen) == 1 and seen[0].startswith("WITH leg AS"), seen
        else:   # SQLite: a short transaction of plain statements, no call upsert, no ORM loads
            assert len(seen) <= 5 and not any("calls" in s.split(" WHERE ")[0] for s in seen), seen
    assert call.has("Hangup")
    with database.session() as s:
        assert {a.question: (a.value, a.agent_id) for a in s.scalars(select(SurveyAnswer))} == \
            {"adequate": (1, "alice"), "satisfaction": (4, "alice"), "anything_else": (2, "alice")}
        assert s.scalar(select(Leg)).survey_state == "finished"


def normalised(root: ET.Element) -> str:
    return re.sub(r"leg=\d+", "leg=N", ET.tostring(root, encoding="unicode"))


def test_the_fast_path_answers_exactly_what_the_full_handler_does(twilio, database, agents):
    """The same steps through URLs with ``lang`` (fast path) and without (the full handler,
    which reads the leg's language): byte-identical TwiML apart from the leg id."""
    fast, full = at_survey(twilio, "CA710"), at_survey(twilio, "CA711")
    for digits in ("9", "", "", "3", "2"):   # invalid, silence (= unanswered), silence, 3, goodbye
        fast_url = fast.find("Gather").get("action")
        full_url = re.sub(r"&lang=\w+", "", full.find("Gather").get("action"))
        assert "lang=" in fast_url and "lang=" not in full_url
        assert normalised(fast.post(fast_url, Digits=digits)) == normalised(full.post(full_url, Digits=digits))
    assert fast.has("Hangup")
    with database.session() as s:
        got = {}
        for a in s.scalars(select(SurveyAnswer)):
            got.setdefault(a.call_sid, {})[a.question] = (a.value, a.status)
        assert got["CA710"] == got["CA711"] == {"adequate": (None, "no-input"), "satisfaction": (3, "answered"),
                                                "anything_else": (2, "answered")}
        assert {leg.survey_state for leg in s.scalars(select(Leg))} == {"finished"}


def test_duplicates_and_late_retries_change_nothing_and_hear_the_same(twilio, database, agents):
    call = at_survey(twilio, "CA720")
    url = call.find("Gather").get("action")
    first = ET.tostring(call.press("2"), encoding="unicode")
    events, answers = count(database, WebhookEvent), count(database, SurveyAnswer)
    for digits in ("2", "1", ""):     # a retry with other digits cannot change a stored answer
        assert ET.tostring(call.post(url, Digits=digits), encoding="unicode") == first
    call.press("5"); call.press("2")   # noqa: E702 - the survey goes on from the first answer
    last_url = url.replace("q=0", "q=2")
    goodbye = ET.tostring(call.doc, encoding="unicode")
    assert ET.tostring(call.post(last_url, Digits="1"), encoding="unicode") == goodbye   # late, changed its mind
    assert count(database, WebhookEvent) == events + 2 and count(database, SurveyAnswer) == answers + 2
    with database.session() as s:
        assert {a.question: a.value for a in s.scalars(select(SurveyAnswer))} == \
            {"adequate": 2, "satisfaction": 5, "anything_else": 2}


def test_concurrent_duplicates_store_one_answer_and_all_hear_the_same(app, twilio, database, agents):
    call = at_survey(twilio, "CA730")
    url = call.find("Gather").get("action")
    params = {"CallSid": "CA730", **BASE, "Digits": "1"}
    barrier, bodies = threading.Barrier(6), []

    def deliver():
        client = TwilioClient(app.test_client())
        barrier.wait()
        resp = client.post(url, params)
        bodies.append((resp.status_code, resp.data))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(bodies) == 6 and {status for status, _ in bodies} == {200}
    assert len({body for _, body in bodies}) == 1 and b"from 1 to 5" in bodies[0][1]
    assert count(database, SurveyAnswer) == 1
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.step.like("survey:%"))) == 1


@pytest.mark.parametrize("case", ["other-call", "unknown-leg", "not-offered"])
def test_no_survey_running_is_refused_with_the_goodbye_and_stores_nothing(twilio, database, agents, case):
    call = at_survey(twilio, "CA740")
    url = call.find("Gather").get("action")
    sid = "CA740"
    if case == "other-call":
        ScriptedCall(twilio, "CA741").incoming()
        sid = "CA741"
    elif case == "unknown-leg":
        url = re.sub(r"leg=\d+", "leg=999999", url)
    else:
        with database.session() as s:
            s.scalar(select(Leg)).survey_state = "not-offered"
    events = count(database, WebhookEvent)
    root = ScriptedCall(twilio, sid).post(url, Digits="1")
    assert root.find("Hangup") is not None and root.find("Gather") is None
    assert count(database, SurveyAnswer) == 0 and count(database, WebhookEvent) == events


def test_postgresql_engines_connect_with_a_timeout_unless_the_url_sets_one(monkeypatch):
    seen = {}
    monkeypatch.setattr(store.base, "create_engine", lambda url, **kw: seen.setdefault(url, kw) and None)
    monkeypatch.setattr(store.base, "_ping_when_idle", lambda engine, idle: None)
    store.base.make_engine("postgresql+psycopg://u@db/a")
    store.base.make_engine("postgresql+psycopg://u@db/b?connect_timeout=9")
    assert seen["postgresql+psycopg://u@db/a"]["connect_args"] == {"connect_timeout": store.base.CONNECT_TIMEOUT}
    assert "connect_args" not in seen["postgresql+psycopg://u@db/b?connect_timeout=9"]
    assert all(kw["pool_timeout"] < 15 for kw in seen.values())   # below Twilio's webhook timeout


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_an_idle_connection_that_died_is_replaced_before_use(database):
    def kill(db):
        with db.engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(database.url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return pid

    pinged = Database(database.url, ping_idle_seconds=0)     # every checkout counts as idle: pinged
    try:
        dead = kill(pinged)
        with pinged.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != dead
    finally:
        pinged.dispose()
    busy = Database(database.url, ping_idle_seconds=3600)    # in steady use: no ping, so the death shows
    try:
        kill(busy)
        with pytest.raises(OperationalError):
            with busy.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        with busy.engine.connect() as conn:                   # and the pool was renewed at once
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        busy.dispose()


def test_cached_survey_twiml_is_what_the_twilio_package_renders(app):
    from twilio.twiml.voice_response import VoiceResponse

    from survey.flow import step
    from webhooks.twiml import survey_next, survey_next_twiml
    survey = app.config["SURVEY"]
    for root in ("", "/behind/a/prefix"):
        with app.test_request_context("/voice/survey", base_url=f"http://localhost{root}"):
            for lang in app.config["MENU"].languages:
                for index in range(len(survey.questions)):
                    for digits in ("", "9", "1", "2", "5"):
                        for attempt in (1, 2):
                            decision = step(survey, index, digits, attempt)
                            if decision.transfer:
                                continue
                            for leg in (7, 123456, 7):
                                fresh = str(survey_next(VoiceResponse(), leg, index, decision, lang))
                                assert survey_next_twiml(leg, index, decision, lang) == fresh
                                assert f"{root}/voice/survey?leg={leg}&amp;" in fresh or "<Hangup" in fresh


def test_webhooks_are_stateless_no_session_cookie(twilio, app, agents):
    call = at_survey(twilio, "CA750")
    resp = twilio.post(call.find("Gather").get("action"), {"CallSid": "CA750", **BASE, "Digits": "1"})
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    assert "aftercall_session" in app.test_client().get("/login").headers.get("Set-Cookie", "")  # pages keep theirs
