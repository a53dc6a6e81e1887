"""The caller's own words: ``<Record>`` after "no" to the adequacy question, and its three
signed callbacks (``/voice/survey/words``, ``/voice/recording/status``,
``/voice/recording/transcription``) in any order, duplicated, or the transcription never."""
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aftercall.app import create_app
from store.base import utcnow
from store.calls import Leg
from store.recordings import Recording
from survey import words
from tests.conftest import TwilioClient, make_settings
from tests.voice.driver import ScriptedCall, answers

SURVEY = Path(__file__).resolve().parents[2] / "survey" / "survey.toml"


def words_survey(tmp_path) -> Path:
    path = tmp_path / "survey.toml"
    path.write_text(SURVEY.read_text(encoding="utf-8").replace("enabled = false", "enabled = true"), encoding="utf-8")
    return path


@pytest.fixture
def twilio(database, tmp_path):
    app = create_app(make_settings(database, SURVEY_FILE=str(words_survey(tmp_path))), db=database)
    app.config["TESTING"] = True
    return TwilioClient(app.test_client())


def say_no(twilio, sid: str, language: str = "1") -> ScriptedCall:
    call = ScriptedCall(twilio, sid)
    dial = call.to_agent(language=language)
    call.end_dial(dial, agent_hung_up=True)
    call.press("2")
    return call


def recording(sid="RE" + "1" * 32):
    return {"RecordingSid": sid, "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{sid}"}


def leg_id(database) -> int:
    with database.session() as s:
        return s.scalar(select(Leg.id))


def rows(database) -> list[Recording]:
    with database.session() as s:
        return list(s.scalars(select(Recording).order_by(Recording.id)))


def test_no_asks_for_words_with_record_then_the_survey_goes_on(twilio, database, agents):
    call = say_no(twilio, "CA201")
    assert "what was left unresolved" in call.said()
    record = call.find("Record")
    assert record.get("maxLength") == "30" and record.get("finishOnKey") == "#" and record.get("timeout") == "5"
    assert record.get("playBeep") == "true" and record.get("transcribe") == "true"
    assert record.get("transcribeCallback").startswith("/voice/recording/transcription?leg=")
    assert record.get("recordingStatusCallback").startswith("/voice/recording/status?leg=")
    assert record.get("action").startswith("/voice/survey/words?leg=")
    # Silence: Twilio skips the action and runs the next verb, the rating question.
    verbs = [child.tag for child in call.doc]
    assert verbs.index("Gather") > verbs.index("Record")
    assert "from 1 to 5" in " ".join(s.text or "" for s in call.find("Gather").iter("Say"))
    assert answers(database, "CA201")["adequate"] == (2, "answered", "alice")


def test_yes_asks_nothing(twilio, database, agents):
    call = ScriptedCall(twilio, "CA202")
    call.end_dial(call.to_agent(), agent_hung_up=True)
    call.press("1")
    assert not call.has("Record") and "from 1 to 5" in call.said()


def test_russian_caller_is_recorded_without_transcription(twilio, database, agents):
    call = say_no(twilio, "CA203", language="2")
    record = call.find("Record")
    assert record.get("transcribe") == "false" and record.get("transcribeCallback") is None
    call.post(record.get("action"), **recording(), RecordingDuration=7, Digits="#")
    assert "Спасибо" in call.said()
    [row] = rows(database)
    assert words.transcription_state(row, utcnow()) == "not-requested"


def test_words_in_order_then_duplicates_store_one_recording(twilio, database, agents):
    call = say_no(twilio, "CA204")
    record = call.find("Record")
    first = call.post(record.get("action"), **recording(), RecordingDuration=12, Digits="#")
    assert "Thank you, we will look into it" in call.said() and "from 1 to 5" in call.said()
    again = call.post(record.get("action"), **recording(), RecordingDuration=12, Digits="#")
    assert [e.tag for e in first] == [e.tag for e in again]
    for _ in range(2):
        call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="completed",
                  RecordingDuration=12)
        call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="completed",
                  TranscriptionText="My refund never arrived", TranscriptionSid="TR1")
    [row] = rows(database)
    assert (row.status, row.duration, row.transcription_status, row.transcription_text) == \
        ("completed", 12, "completed", "My refund never arrived")
    assert row.leg_id == leg_id(database) and row.call_sid == "CA204" and row.url.endswith(row.recording_sid)


def test_reordered_callbacks_give_the_same_row(twilio, database, agents):
    call = say_no(twilio, "CA205")
    record = call.find("Record")
    call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="completed",
              TranscriptionText="Still no engineer")
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="completed", RecordingDuration=9)
    [row] = rows(database)
    assert (row.status, row.transcription_text) == ("completed", "Still no engineer")
    # The action comes last: it neither downgrades the status nor loses the text.
    call.post(record.get("action"), **recording(), RecordingDuration=9, Digits="")
    assert "from 1 to 5" in call.said()
    [row] = rows(database)
    assert (row.status, row.duration, row.transcription_text) == ("completed", 9, "Still no engineer")
    # A "failed" transcription arriving after the text changes nothing.
    call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="failed", TranscriptionText="")
    assert rows(database)[0].transcription_text == "Still no engineer"


def test_silence_stores_nothing(twilio, database, agents):
    call = say_no(twilio, "CA206")
    record = call.find("Record")
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="absent", RecordingDuration=0)
    assert rows(database) == []


def test_never_transcribed_is_pending_then_missing(twilio, database, agents):
    call = say_no(twilio, "CA207")
    record = call.find("Record")
    call.post(record.get("action"), **recording(), RecordingDuration=5, Digits="#")
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="completed", RecordingDuration=5)
    [row] = rows(database)
    assert words.transcription_state(row, row.created_at + timedelta(minutes=5)) == "pending"
    assert words.transcription_state(row, row.created_at + words.TRANSCRIPTION_WAIT) == "missing"


def test_failed_transcription_keeps_the_recording(twilio, database, agents):
    call = say_no(twilio, "CA208")
    record = call.find("Record")
    call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="failed", TranscriptionText="")
    [row] = rows(database)
    assert (row.transcription_status, row.transcription_text) == ("failed", None)


def test_bad_callbacks_answer_twiml_and_store_nothing(twilio, database, agents):
    call = say_no(twilio, "CA209")
    record = call.find("Record")
    other = ScriptedCall(twilio, "CA-other")
    other.post(record.get("action"), **recording(), RecordingDuration=5)   # a leg of another call
    assert "from 1 to 5" in other.said()                                   # the survey still goes on
    call.post(record.get("action"), RecordingDuration=5)                    # no RecordingSid
    assert "from 1 to 5" in call.said()
    call.post(record.get("action").replace("next=1", "next=99"), **recording())
    assert call.has("Hangup")                                              # no such question: thanks, goodbye
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="garbage")
    call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="done?")
    call.post(record.get("action"), **recording("RE" + "x" * 80), RecordingDuration=5)
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="completed",
              RecordingDuration="12s")
    assert rows(database) == []
    unsigned = twilio.post(record.get("transcribeCallback"), {**recording(), "CallSid": "CA209",
                                                              "TranscriptionStatus": "completed"}, sign=False)
    assert unsigned.status_code == 403 and rows(database) == []


def test_a_deleted_recording_takes_no_late_callback(twilio, database, agents):
    call = say_no(twilio, "CA210")
    record = call.find("Record")
    call.post(record.get("action"), **recording(), RecordingDuration=5, Digits="#")
    with database.session() as s:
        row = s.scalar(select(Recording))
        row.url, row.deleted_at = "", utcnow()
    call.post(record.get("transcribeCallback"), **recording(), TranscriptionStatus="completed",
              TranscriptionText="late words")
    call.post(record.get("recordingStatusCallback"), **recording(), RecordingStatus="completed", RecordingDuration=5)
    [row] = rows(database)
    assert (row.url, row.transcription_text, row.status) == ("", None, "received")
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Recording)) == 1
