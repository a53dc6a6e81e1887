"""The caller's own words on a call page in a real headless Chromium, in English and Russian."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from aftercall.app import create_app
from store.base import utcnow
from store.calls import Leg
from store.recordings import Recording
from tests.conftest import make_settings
from tests.browser import auth, chromium, database_copy, needs_chromium, page, shot, serving  # noqa: F401  (fixtures)
from tests.dashboard.seed import seed

pytestmark = needs_chromium
WORDS = "Мне так и не вернули деньги, a refund is still missing"


@pytest.fixture
def server(tmp_path, sqlite_template):
    db = database_copy(tmp_path, sqlite_template)
    sid = seed(db)["cut_sid"]
    with db.session() as s:
        leg = s.scalar(select(Leg).where(Leg.call_sid == sid))
        s.add(Recording(recording_sid="RE" + "7" * 32, call_sid=sid, leg_id=leg.id, url="https://api.twilio.com/x",
                        duration=14, status="completed", transcription_status="completed", transcription_text=WORDS,
                        created_at=utcnow() - timedelta(hours=2)))
    app = create_app(make_settings(db, TWILIO_ACCOUNT_SID="AC" + "7" * 32), db=db)
    with serving(app) as url:
        yield {"url": url, "sid": sid}
    db.dispose()


def test_call_page_shows_the_callers_words_in_both_languages(server, page, auth):
    auth.login("supervisor")
    page.goto(f"{server['url']}/calls/{server['sid']}")
    words = page.locator(".caller-words")
    assert words.count() == 1 and words.is_visible()
    assert "The caller's own words (0:14)" in words.inner_text()
    assert words.locator("q").inner_text() == WORDS
    assert words.locator("audio").get_attribute("src").endswith(f"/words/RE{'7' * 32}.mp3")
    assert "api.twilio.com" not in page.content()
    shot(page, "words-en")
    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    words = page.locator(".caller-words")
    assert "Слова звонящего (0:14)" in words.inner_text() and "Прослушать" in words.inner_text()
    assert words.locator("q").inner_text() == WORDS
    shot(page, "words-ru")
