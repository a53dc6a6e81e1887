"""The calls list and the agent page in Chromium at 1366×768, in English and Russian: "N of M"
and paging, search and filters from the form, the agent page's sections; nothing scrolls
sideways."""
from __future__ import annotations

import pytest

from tests.browser import AuthActions, chromium, needs_chromium, shot  # noqa: F401  (fixtures)
from tests.dashboard.seed import AGENTS, CALLS_PER_AGENT, PERIOD
from tests.dashboard.test_browser import server  # noqa: F401  (fixtures)

pytestmark = needs_chromium
ALL = len(AGENTS) * CALLS_PER_AGENT
WORDS = {"en": {"of": "of", "calls": "calls", "call": "call", "next": "Next →"},
         "ru": {"of": "из", "calls": "звонков", "call": "звонка", "next": "Дальше →"}}


@pytest.fixture(params=["en", "ru"])
def session(request, server, chromium):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = AuthActions(context.new_page(), server["url"]).login("supervisor", request.param)
    yield page, request.param, server["url"]
    context.close()


def not_wide(page):
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= window, (page.url, width)


def test_calls_list_pages_and_searches(session):
    page, lang, url = session
    w = WORDS[lang]
    page.goto(url + f"/calls?period={PERIOD}")
    count = page.locator(".pager .count").first
    assert count.inner_text() == f"1–50 {w['of']} {ALL} {w['calls']}"
    assert page.locator("#calls tbody tr").count() == 50
    not_wide(page)
    page.locator(".pager a[rel=next]").first.click()
    page.wait_for_load_state()
    assert "page=2" in page.url and f"period={PERIOD}" in page.url
    assert page.locator(".pager .count").first.inner_text() == f"51–{ALL} {w['of']} {ALL} {w['calls']}"
    assert page.locator("#calls tbody tr").count() == ALL - 50

    page.select_option("#call-search select[name=agent]", "dan")
    page.click("#search")
    page.wait_for_load_state()
    assert "agent=dan" in page.url
    assert page.locator(".pager .count").first.inner_text() == f"1–24 {w['of']} 24 {w['calls']}"
    shot(page, f"calls-dan-{lang}")

    caller = page.locator("#calls tbody tr td").nth(1).inner_text()
    assert caller.startswith("•") and "+1555" not in page.locator("#calls").inner_text()
    page.fill("#call-search input[name=q]", caller[-4:])
    page.click("#search")
    page.wait_for_load_state()
    assert page.locator("#calls tbody tr").count() >= 1
    assert all(c.endswith(caller[-4:]) for c in page.locator("#calls tbody tr td:nth-child(2)").all_inner_texts())
    not_wide(page)

    page.fill("#call-search input[name=q]", "abc")
    page.click("#search")
    page.wait_for_load_state()
    assert "abc" in page.locator(".flash.error").inner_text()
    not_wide(page)

    with page.expect_download() as download:
        page.click("#call-search a.csv")
    assert download.value.suggested_filename.startswith("calls-")


def test_agent_page_in_sections_with_paged_lists(session):
    page, lang, url = session
    w = WORDS[lang]
    page.goto(url + f"/agents/dan?period={PERIOD}")
    links = page.locator("#sections a")
    assert links.count() == 5
    for section in ("summary", "trends", "handle-time", "agent-flags", "agent-calls"):
        assert page.locator(f"#{section}").count() == 1
    assert page.locator("#agent-calls .pager .count").first.inner_text() == f"1–24 {w['of']} 24 {w['calls']}"
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, height
    not_wide(page)
    page.locator("#sections a[href='#agent-calls']").click()
    assert page.url.endswith("#agent-calls")
    shot(page, f"agent-sections-{lang}")
    page.locator("#summary a.trace").first.click()          # n → the calls behind it
    page.wait_for_load_state()
    assert "/agents/dan/calls/" in page.url and page.locator("#trace tbody tr").count() >= 1
    not_wide(page)
