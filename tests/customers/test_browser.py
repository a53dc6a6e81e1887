"""The at-risk page in a real headless Chromium at 1366×768, in English and Russian: the list
from the navigation, "N of M" and the next page, reasons in the reader's language, the links to
a caller's calls and tasks, the scorecards' index chart; nothing scrolls sideways."""
from __future__ import annotations


import pytest

from aftercall.app import create_app
from store.base import utcnow
from tests.browser import AuthActions, chromium, database_copy, needs_chromium, shot, serving  # noqa: F401  (chromium: a fixture)
from tests.conftest import make_settings
from tests.customers.conftest import add_at_risk
from tests.dashboard.seed import seed
from tests.dashboard.test_translations import english_words, visible

pytestmark = needs_chromium
WORDS = {"en": {"nav": "At-risk callers", "of": "1–25 of 29 callers", "next": "Next →", "rest": "26–29 of 29 callers",
                "reason": "said 3 times the question was not resolved", "abandoned": "hung up 4 times while waiting",
                "calls": "Only the calls of caller", "tasks": "Only the tasks of caller",
                "index": "Satisfaction index by week"},
         "ru": {"nav": "Клиенты в зоне риска", "of": "1–25 из 29 клиентов", "next": "Дальше →",
                "rest": "26–29 из 29 клиентов", "reason": "3 ответа «вопрос не решён»",
                "abandoned": "4 звонка брошены в очереди", "calls": "Только звонки клиента",
                "tasks": "Только задачи клиента", "index": "Индекс удовлетворённости по неделям"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    db = database_copy(tmp_path_factory.mktemp("browser-at-risk"), sqlite_template)
    seed(db)
    info = add_at_risk(db, utcnow(), abandoners=27)
    with serving(create_app(make_settings(db), db=db)) as url:
        yield {"url": url, "db": db, **info}
    db.dispose()


def not_wide(page):
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= window, (page.url, width)


def no_english(page, lang):
    if lang == "ru":
        text = visible(page.content())
        assert not [piece for piece, pattern in english_words() if pattern.search(text)], page.url


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_supervisor_reads_the_at_risk_list_and_follows_a_caller(server, chromium, lang):  # noqa: F811
    w, url = WORDS[lang], server["url"]
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    AuthActions(page, url).login("supervisor", lang)
    page.click(f"header nav >> text={w['nav']}")
    page.wait_for_load_state()
    assert "/at-risk" in page.url
    rows = page.locator("table.at-risk tbody tr")
    assert rows.count() == 25
    assert page.locator(".pager .count").first.inner_text() == w["of"]
    first = rows.first
    assert first.get_attribute("data-key") == server["sids"][0]
    assert w["reason"] in first.inner_text() and "+1555" not in page.content()
    not_wide(page)
    no_english(page, lang)
    shot(page, f"at-risk-{lang}")

    page.locator(".pager a[rel=next]").first.click()
    page.wait_for_load_state()
    assert page.locator(".pager .count").first.inner_text() == w["rest"]
    assert rows.count() == 4 and w["abandoned"] in rows.first.inner_text()
    not_wide(page)

    page.goto(url + "/at-risk")
    rows.first.locator("a.calls").click()
    page.wait_for_load_state()
    assert "/calls" in page.url and w["calls"] in page.locator("#caller-filter").inner_text()
    shown = page.locator("table.calls tbody tr")
    assert shown.count() == 3 and server["other"] not in page.content()
    not_wide(page)
    no_english(page, lang)

    page.goto(url + "/at-risk")
    rows.first.locator("a.tasks").click()
    page.wait_for_load_state()
    assert "/callbacks" in page.url and w["tasks"] in page.locator("#caller-filter").inner_text()
    assert page.locator(f"#task-{server['task']}").count() == 1
    not_wide(page)

    page.goto(url + "/scorecards")
    assert w["index"] in page.locator("#index-panel").inner_text()
    assert page.locator("#index-panel svg").count() == 1
    not_wide(page)
    no_english(page, lang)
    shot(page, f"scorecards-index-{lang}")
    context.close()
