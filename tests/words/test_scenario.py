"""The emulator's callers leave words or stay silent after "no"; Twilio's callbacks come late,
twice, the transcription first or never: every "no" with a spoken reply has exactly its
recording, on the right call and leg, with the words the caller said when a transcription came."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from aftercall.app import create_app
from emulator import load_scenario, run
from emulator.scenario import Faults
from store.accounts import ApiToken, hash_token
from store.calls import Leg
from store.recordings import Recording
from tests.conftest import make_settings
from tests.words.conftest import words_survey

DEMO = Path(__file__).resolve().parents[2] / "emulator" / "scenarios" / "demo.toml"


def test_every_spoken_no_has_its_recording_once(database, tmp_path, rest):
    scenario = load_scenario(DEMO)
    scenario = scenario.replace(
        seed=14, calls=120, start=datetime(2026, 11, 2, tzinfo=timezone.utc), auth_token="words-token",
        faults=Faults(duplicate_request=0.05, duplicate_status_callback=0.3, reorder_status_callbacks=0.4,
                      lost_transcription=0.2),
        callers=dataclasses.replace(scenario.callers, survey_response_rate=1.0, speak_words=0.7))
    with database.session() as s:
        s.add(ApiToken(name="emulator", role="admin", token_hash=hash_token(scenario.api_token)))
    app = create_app(make_settings(database, TWILIO_AUTH_TOKEN="words-token",
                                   SURVEY_FILE=str(words_survey(tmp_path))), db=database)
    result = run(scenario, app, progress=False, recordings=rest.keep_recording)
    assert result.application_errors == 0 and result.callback_errors == 0

    said_no = [(call.call_sid, leg) for call in result.truth for leg in call.legs if leg.survey[:1] == ["2"]]
    russian = {call.call_sid for call in result.truth if call.language == "2"}   # Twilio transcribes English only
    spoken = {leg.recording_sid: (sid, leg) for sid, leg in said_no if leg.words is not None}
    silent = [leg for _, leg in said_no if leg.words is None]
    assert len(spoken) >= 10 and silent                              # both kinds happened
    assert any(not leg.transcription_sent for _, leg in spoken.values())
    with database.session() as s:
        rows = list(s.scalars(select(Recording)))
        legs = {leg.id: (leg.call_sid, leg.seq) for leg in s.scalars(select(Leg))}
    assert sorted(r.recording_sid for r in rows) == sorted(spoken)    # each once, none for silence
    for row in rows:
        call_sid, leg = spoken[row.recording_sid]
        assert row.call_sid == call_sid and legs[row.leg_id][0] == call_sid
        assert row.status == "completed" and row.duration and row.url.endswith(row.recording_sid)
        if call_sid in russian:
            assert row.transcription_status == "not-requested" and not leg.transcription_sent
        elif not leg.transcription_sent:
            assert row.transcription_status is None                 # pending, then "none arrived"
        elif row.transcription_status == "completed":
            assert row.transcription_text == leg.words
    texts = [r for r in rows if r.transcription_status == "completed"]
    assert texts and all(r.transcription_text for r in texts)
