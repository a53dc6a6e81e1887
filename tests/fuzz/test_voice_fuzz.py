"""Property-based fuzzing of every voice webhook: Twilio must never hear a 5xx.

Unsigned → 403; signed garbage (missing, empty, oversized, control characters, unknown
CallSids and ids, wrong types) → 200 with parseable TwiML whose root is ``<Response>``.
A real call with a running survey is seeded so that fuzzed ids also reach the deep paths.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from store.agents import Agent
from store.calls import Call, Leg, QueueEntry

ENDPOINTS = ["/voice/incoming", "/voice/language", "/voice/menu", "/voice/queue/wait", "/voice/queue/done",
             "/voice/dial/done", "/voice/survey", "/voice/status", "/voice/survey/words", "/voice/recording/status",
             "/voice/recording/transcription",
             "/callback/voice/answer", "/callback/voice/dial", "/callback/voice/leg", "/callback/voice/status"]
SEED_SID = "CAfuzzseed"
FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

garbage = st.one_of(
    st.just(""),
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=5000),   # oversized, any code point
    st.from_regex(r"-?[0-9]{1,25}", fullmatch=True),
    st.sampled_from(["1", "2", "5", "#", "*", "0", "99", "1.5", "true", "null", "\x00", "CA" + "x" * 100]),
)
known_keys = ["CallSid", "AccountSid", "From", "To", "CallStatus", "Digits", "QueueResult", "QueueTime",
              "AvgQueueTime", "DialCallStatus", "DialCallDuration", "DialBridged", "DialCallSid",
              "CallDuration", "SequenceNumber", "Timestamp", "QueuePosition", "ParentCallSid", "RecordingSid",
              "RecordingUrl", "RecordingDuration", "RecordingStatus", "TranscriptionStatus", "TranscriptionText"]
call_sids = st.one_of(st.just(SEED_SID), garbage, st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True))
params_st = st.fixed_dictionaries({}, optional={"CallSid": call_sids, **{k: garbage for k in known_keys[1:]}}) \
    .flatmap(lambda d: st.dictionaries(st.text(min_size=1, max_size=12), garbage, max_size=3)
             .map(lambda extra: {**extra, **d}))
args_st = st.fixed_dictionaries({}, optional={
    "attempt": garbage, "lang": st.one_of(st.sampled_from(["en", "ru"]), garbage),
    "leg": st.one_of(st.just("1"), garbage), "q": st.one_of(st.sampled_from(["0", "1", "2", "3"]), garbage),
    "entry": st.one_of(st.just("1"), garbage), "a": st.one_of(st.just("1"), garbage),
    "next": st.one_of(st.sampled_from(["", "1", "2", "3"]), garbage)})


@pytest.fixture
def seeded(database):
    """A bridged call whose agent hung up and whose survey is running: leg 1, entry 1."""
    with database.session() as s:
        s.add(Agent(id="alice", name="Alice", skills=["billing"], presence="busy"))
        s.add(Call(sid=SEED_SID, language="en"))
        s.flush()
        s.add(QueueEntry(id=1, call_sid=SEED_SID, visit=1, queue="billing", state="reserved", agent_id="alice"))
        s.flush()
        s.add(Leg(id=1, call_sid=SEED_SID, seq=1, entry_id=1, queue="billing", agent_id="alice", language="en",
                  survey_state="offered", survey_version="2026-11-v1"))
    if database.engine.dialect.name == "postgresql":   # explicit ids: move the sequences past them
        with database.engine.begin() as conn:
            for table in ("queue_entries", "legs"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)")


def assert_twiml(resp):
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "text/xml"
    assert ET.fromstring(resp.data).tag == "Response"


def _url(path: str, args: dict) -> str:
    return path + ("?" + urlencode(args) if args else "")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_signed_garbage_always_gets_twiml(twilio, seeded, path, caplog):
    @FUZZ
    @given(params=params_st, args=args_st)
    def check(params, args):
        assert_twiml(twilio.post(_url(path, args), params))
    check()
    # Garbage is refused as bad parameters (a warning); an ERROR means a handler crashed on it.
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unsigned_or_wrongly_signed_is_403(twilio, path):
    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    # Any text a header can carry (no line breaks: no HTTP client sends them, werkzeug refuses them).
    @given(params=params_st, args=args_st, signature=st.one_of(st.none(), st.text(
        st.characters(blacklist_characters="\r\n"), max_size=40)))
    def check(params, args, signature):
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        assert twilio.post(_url(path, args), params, sign=False, headers=headers).status_code == 403
    check()


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_methods_are_405_not_5xx(twilio, path, method):
    assert twilio.client.open(path, method=method, base_url="http://localhost").status_code == 405


def test_non_form_bodies_are_refused_or_answered(twilio):
    """JSON or binary bodies carry no signed form: 403, never a crash."""
    for body, ctype in ((b'{"CallSid": "CA1"}', "application/json"), (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                        (b"a" * 200_000, "multipart/form-data; boundary=zz")):
        resp = twilio.client.post("/voice/incoming", data=body, content_type=ctype, base_url="http://localhost",
                                  headers={"X-Twilio-Signature": "x"})
        assert resp.status_code < 500 and resp.status_code in (400, 403, 413)


def test_survey_answers_on_the_seeded_leg_are_stored_once(twilio, seeded, database):
    """The deep path fuzz reaches: a fuzzed duplicate of a real answer never double-counts."""
    from sqlalchemy import func, select
    from store.calls import SurveyAnswer
    for _ in range(3):
        assert_twiml(twilio.post("/voice/survey?leg=1&q=0&attempt=1&lang=en", {"CallSid": SEED_SID, "Digits": "1"}))
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyAnswer)) == 1
