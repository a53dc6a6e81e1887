"""What the dashboard fuzzing (tests/fuzz/test_dashboard_fuzz.py) found, one example each:
bad input gets a clear 4xx or a message in the reader's language, never a 500 or a half-saved row."""
from __future__ import annotations

from datetime import timedelta

from babel.dates import format_skeleton
from sqlalchemy import func, select

from scoring.payroll.periods import get_or_create_period, period_bounds, period_key_for
from scoring.scorecards.config import load_config
from store.base import utcnow

from store.agents import Agent
from store.payroll import PayPeriod
from store.users import User
from tests.dashboard.seed import PERIOD, USERS


def flashes(browser) -> list[str]:
    with browser.client.session_transaction() as sess:
        return [text for _, text in sess.pop("_flashes", [])]


def test_a_nul_anywhere_is_a_400_in_the_readers_language(browser):
    browser.login("supervisor")
    resp = browser.get("/flags?agent=a%00b")      # PostgreSQL text cannot hold it: was a 500
    assert resp.status_code == 400 and "NUL" in resp.get_data(as_text=True)
    browser.post("/lang", {"lang": "ru", "back": "/scorecards"})
    resp = browser.post("/flags/1/review", {"decision": "confirm", "comment": "a\x00b"})
    assert resp.status_code == 400 and "символ NUL" in resp.get_data(as_text=True)


def test_absurd_ids_are_404_not_an_overflow(browser):
    browser.login("admin")
    assert browser.get("/hr/exports/" + "9" * 30).status_code == 404
    assert browser.post("/admin/users/99999999999", {"role": "hr"}).status_code == 404
    assert browser.post("/admin/tokens/0/revoke").status_code == 404


def test_far_dates_and_unknown_filters_are_shown_as_ignored(browser):
    browser.login("supervisor")
    page = browser.get("/scorecards?from=0001-01-01&to=9999-12-31&team=west&sort=luck&dir=up")
    assert page.status_code == 200                  # the dates were an OverflowError
    text = page.get_data(as_text=True)
    assert "Dates must lie between 2000-01-01 and 2099-12-31" in text
    assert "Team: “west” is not a known value" in text and "Sort: “luck”" in text and "Order: “up”" in text
    browser.post("/lang", {"lang": "ru", "back": "/"})
    text = browser.get("/flags?kind=fraud").get_data(as_text=True)
    assert "Тип: значение «fraud» неизвестно, фильтр не применён." in text


def test_a_line_break_in_a_return_path_is_not_followed(browser):
    browser.login("supervisor")
    resp = browser.post("/lang", {"lang": "en", "back": "/scorecards\r\nSet-Cookie: x=1"})   # was a 500
    assert resp.status_code == 302 and resp.headers["Location"] in ("/", "http://localhost/")


def test_locking_needs_a_known_finished_period(browser, database):
    current = period_key_for(utcnow())               # the month running now: it has not ended
    end = period_bounds(current)[1]
    last_day = format_skeleton("yMMMd", (end.astimezone(load_config().tz) - timedelta(seconds=1)).date(), locale="ru")
    with database.session() as s:
        get_or_create_period(s, current)
    browser.login("hr")
    assert browser.post("/hr/periods/2020-01/lock", {"reason": "x"}).status_code == 404   # was created and locked
    assert browser.get("/hr/periods/2020-01/lock").status_code == 404
    browser.post("/lang", {"lang": "ru", "back": "/"})
    browser.post(f"/hr/periods/{current}/lock", {"reason": "конец месяца"})
    assert flashes(browser) == [f"Период {current} заканчивается {last_day}; закрыть его можно после окончания."]
    confirm = browser.get(f"/hr/periods/{current}/lock")        # no confirmation page for it either
    assert confirm.status_code == 302 and confirm.headers["Location"].endswith("/hr/periods")
    assert flashes(browser) == [f"Период {current} заканчивается {last_day}; закрыть его можно после окончания."]
    browser.post(f"/hr/periods/{PERIOD}/lock", {"reason": "   "})
    assert flashes(browser) == ["Укажите, почему период закрывается: причина обязательна."]
    browser.post(f"/hr/periods/{PERIOD}/lock", {"reason": "цифры окончательны"})
    browser.post(f"/hr/periods/{PERIOD}/lock", {"reason": "цифры окончательны"})
    assert flashes(browser) == [f"Период {PERIOD} закрыт.", f"Период {PERIOD} уже закрыт."]
    with database.session() as s:
        assert s.get(PayPeriod, "2020-01") is None and s.get(PayPeriod, current).state == "open"


def test_admin_forms_refuse_in_the_readers_language_and_store_nothing(browser, database):
    browser.login("admin")
    browser.post("/lang", {"lang": "ru", "back": "/"})
    flashes(browser)
    browser.post("/admin/agents", {"id": "eve", "team": "t" * 65, "skills": ["billing"]})   # was a 500 on PostgreSQL
    browser.post("/admin/agents", {"id": "eve", "phone": "555-1234"})
    browser.post("/admin/agents", {"id": "eve", "skills": ["billing", "astrology"]})
    browser.post("/admin/users", {"email": "olga@example.com", "password": "short", "role": "hr"})
    assert flashes(browser) == [
        "Название команды может содержать не больше 64 символов.",
        "Телефон записывается в формате E.164, например +15551234567, или остаётся пустым.",
        "Очередей astrology нет; есть очереди: billing, general, sales, tech.",
        "Пароль должен содержать не меньше 10 символов.",
    ]
    with database.session() as s:
        assert s.get(Agent, "eve") is None
        assert s.scalar(select(func.count()).select_from(User)) == len(USERS)


def test_a_garbage_active_value_no_longer_deactivates(browser, database):
    browser.login("admin")
    with database.session() as s:
        hr_id = s.scalar(select(User.id).where(User.email == USERS["hr"]))
    browser.post(f"/admin/users/{hr_id}", {"active": "yes"})          # anything but "1" used to mean "deactivate"
    browser.post("/admin/agents/ann", {"name": "Ann", "active": "on"})
    assert flashes(browser) == ["“yes” is neither active nor deactivated.", "“on” is neither active nor deactivated."]
    with database.session() as s:
        assert s.get(User, hr_id).active and s.get(Agent, "ann").active
