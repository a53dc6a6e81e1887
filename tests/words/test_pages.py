"""The caller's words on the call page, its call-back task row and ``GET /api/calls/<CallSid>``:
supervisors and admins only, the audio through the dashboard, in English and Russian."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from aftercall.callbacks import sweep
from store.accounts import ApiToken, hash_token
from store.base import utcnow
from store.recordings import Recording
from tests.callbacks.conftest import SWEEP_AT
from tests.callbacks.test_dashboard import login
from tests.conftest import make_settings
from tests.words.conftest import left_words

WORDS = "My refund never arrived"


@pytest.fixture
def said(app, database, rest, twilio, team):
    left_words(twilio, rest, "CA-w", WORDS, seq=1)
    left_words(twilio, rest, "CA-quiet", None, seq=2)
    sweep(make_settings(database), database, now=SWEEP_AT)
    with database.session() as s:
        s.add(ApiToken(name="crm", role="supervisor", token_hash=hash_token("sup-token")))
        s.add(ApiToken(name="pay", role="hr", token_hash=hash_token("hr-token")))


def test_supervisor_reads_the_words_on_the_call_and_its_task(app, said):
    b = login(app)
    page = b.get("/calls/CA-w").get_data(as_text=True)
    assert "own words" in page and WORDS in page
    assert "api.twilio.com" not in page and "/calls/CA-w/words/RE" in page
    worklist = b.get("/callbacks?scope=all").get_data(as_text=True)
    assert WORDS in worklist and worklist.count("caller-words") == 1     # the silent caller left none
    assert "caller-words" not in b.get("/calls/CA-quiet").get_data(as_text=True)
    b.post("/lang", {"lang": "ru"})
    assert "Слова звонящего" in b.get("/calls/CA-w").get_data(as_text=True)


def test_the_audio_comes_through_the_dashboard(app, said, rest):
    b = login(app)
    audio = b.get(f"/calls/CA-w/words/RE{1:032d}.mp3")
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg" and audio.data.startswith(b"ID3")
    assert audio.headers["Cache-Control"] == "private, no-store"
    assert b.get(f"/calls/CA-quiet/words/RE{1:032d}.mp3").status_code == 404    # not that call's
    rest.recordings.clear()                                                      # Twilio lost it
    assert b.get(f"/calls/CA-w/words/RE{1:032d}.mp3").status_code == 404


def test_hr_sees_neither_page_nor_audio(app, said):
    b = login(app, "hr@example.com")
    for path in ("/calls/CA-w", "/callbacks?scope=all", f"/calls/CA-w/words/RE{1:032d}.mp3"):
        assert b.get(path).status_code == 403


def test_pending_missing_and_deleted_are_said_so(app, database, said):
    with database.session() as s:
        s.execute(update(Recording).values(transcription_status=None, transcription_text=None))
    b = login(app)
    assert "transcription pending" in b.get("/calls/CA-w").get_data(as_text=True)
    with database.session() as s:
        s.execute(update(Recording).values(created_at=utcnow() - timedelta(hours=1)))
    assert "transcription failed (none arrived)" in b.get("/calls/CA-w").get_data(as_text=True)
    with database.session() as s:
        s.execute(update(Recording).values(deleted_at=utcnow(), url=""))
    page = b.get("/calls/CA-w").get_data(as_text=True)
    assert "deleted after the retention period" in page and "/words/RE" not in page
    assert b.get(f"/calls/CA-w/words/RE{1:032d}.mp3").status_code == 404


def test_api_shows_the_words_and_the_task(app, said):
    api = app.test_client()
    legs = api.get("/api/calls/CA-w", headers={"Authorization": "Bearer sup-token"}).json["legs"]
    [words] = legs[0]["words"]
    assert (words["status"], words["duration"], words["transcription"], words["text"]) == \
        ("completed", 8, "completed", WORDS)
    assert words["recording_sid"] == f"RE{1:032d}" and words["deleted_at"] is None
    assert legs[0]["callback_task"]["reason"] == "adequacy-no"
    quiet = api.get("/api/calls/CA-quiet", headers={"Authorization": "Bearer sup-token"}).json["legs"]
    assert quiet[0]["words"] == []
    assert api.get("/api/calls/CA-w", headers={"Authorization": "Bearer hr-token"}).status_code == 403


def test_admin_sees_whether_the_survey_asks_for_words(app, database):
    from accounts.users import create_user
    with database.session() as s:
        create_user(s, "admin@example.com", "correct horse battery", "admin", actor="test")
    page = login(app, "admin@example.com").get("/admin/definitions").get_data(as_text=True)
    assert "asked after Adequate = 2, recorded for up to 30 s, transcribed in: English." in page   # words, not keys
