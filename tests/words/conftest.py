"""The caller's own words: the app with ``[record]`` on, pointed at the emulator's REST stand-in."""
from __future__ import annotations

from pathlib import Path

import pytest

from aftercall.app import create_app
from emulator.twilio_rest import FakeTwilioRest
from tests.callbacks.conftest import team  # noqa: F401  (Alice of team north, sup@ and hr@)
from tests.conftest import AUTH_TOKEN, make_settings
from tests.voice.driver import ScriptedCall

ACCOUNT = "AC" + "2" * 32
SURVEY = Path(__file__).resolve().parents[2] / "survey" / "survey.toml"


def words_survey(directory: Path) -> Path:
    path = directory / "survey-words.toml"
    path.write_text(SURVEY.read_text(encoding="utf-8").replace("enabled = false", "enabled = true"), encoding="utf-8")
    return path


@pytest.fixture
def rest():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, seed=3, slow_s=1.0) as fake:
        yield fake


@pytest.fixture
def app(database, rest, tmp_path):
    settings = make_settings(database, SURVEY_FILE=str(words_survey(tmp_path)), TWILIO_ACCOUNT_SID=ACCOUNT,
                             TWILIO_API_BASE_URL=rest.url)
    app = create_app(settings, db=database)
    app.config["TESTING"] = True
    return app


def left_words(twilio, rest, sid: str, text: str | None, *, keys: str = "222", seq: int = 1) -> ScriptedCall:
    """A surveyed call whose caller said "no", then (``text``) left words that Twilio
    recorded and transcribed, or (None) stayed silent; then the rest of the survey."""
    call = ScriptedCall(twilio, sid)
    call.end_dial(call.to_agent(), agent_hung_up=True)
    call.press(keys[0])
    if text is not None and call.has("Record"):
        record = call.find("Record")
        rec = {"RecordingSid": f"RE{seq:032d}", "RecordingUrl": f"https://api.twilio.com/x/Recordings/RE{seq:032d}"}
        rest.keep_recording(rec["RecordingSid"])
        call.post(record.get("recordingStatusCallback"), **rec, RecordingStatus="completed", RecordingDuration=8)
        call.post(record.get("transcribeCallback"), **rec, TranscriptionStatus="completed", TranscriptionText=text)
        call.post(record.get("action"), **rec, RecordingDuration=8, Digits="#")
    for key in keys[1:]:
        call.press(key)
    call.status()
    return call
