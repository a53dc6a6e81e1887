"""The profile: every user chooses their language there, and it is theirs from the next login on."""
from __future__ import annotations

from sqlalchemy import select

from store.accounts import AuditLog
from store.users import User
from tests.dashboard.conftest import Browser
from tests.dashboard.seed import USERS


def test_a_user_chooses_their_language_on_the_profile(app, browser, database):
    browser.login("hr")
    page = browser.get("/profile").get_data(as_text=True)
    assert 'name="locale"' in page and 'id="ring_to"' not in page        # HR calls nobody back
    browser.post("/profile", {"locale": "ru"})
    assert "Профиль" in browser.get("/profile").get_data(as_text=True)    # at once
    refused = browser.post("/profile", {"locale": "xx"}, follow_redirects=True).get_data(as_text=True)
    assert "en, ru" in refused                                             # refused, with the choices
    with database.session() as s:
        assert s.scalar(select(User.locale).where(User.email == USERS["hr"])) == "ru"
        assert s.scalar(select(AuditLog).where(AuditLog.action == "user.update")).detail == {"locale": "ru"}
    again = Browser(app.test_client())                                    # another day, another browser
    again.login("hr")
    assert 'lang="ru"' in again.get("/hr/periods").get_data(as_text=True)
