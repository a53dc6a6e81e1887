"""The at-risk page: who may see it, the riskiest first with reasons in words (English and
Russian, declined), masked numbers, "N of M" paging, and the links to the caller's calls and
tasks that carry a caller key instead of the number; the scorecards' index chart; the CLI."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from store.base import utcnow
from tests.customers.conftest import add_at_risk
from tests.dashboard.test_translations import english_words, visible


@pytest.fixture
def risky(seeded, database):
    return add_at_risk(database, utcnow())


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-key="(CA\w+)">', page)


@pytest.mark.parametrize("role, status", [("supervisor", 200), ("admin", 200), ("hr", 403)])
def test_supervisors_and_admins_see_it_hr_does_not(browser, risky, role, status):
    browser.login(role)
    assert browser.get("/at-risk").status_code == status
    nav = browser.get("/scorecards").get_data(as_text=True)
    assert ('href="/at-risk"' in nav) == (status == 200)


def test_the_riskiest_first_with_reasons_masked_numbers_and_links(browser, risky):
    browser.login("supervisor")
    page = browser.get("/at-risk").get_data(as_text=True)
    keys = rows(page)
    assert len(keys) == 3 and keys[0] == risky["sids"][0]      # the key: the caller's latest call
    assert "+1555777" not in page and "7770001" not in page and "•0001" in page
    first = page[page.index(f'data-key="{keys[0]}"'):page.index(f'data-key="{keys[1]}"')]
    assert "said 3 times the question was not resolved" in first and "2 repeat calls" in first
    assert "1 call-back overdue" in first and "3 calls" in first
    assert "hung up 4 times while waiting in the queue" in page and "said 1 time the question" in page
    assert "1 repeat call" in page
    assert "1–3 of 3 callers" in page and "•0004" not in page

    link = re.search(r'<a class="calls" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    args = parse_qs(urlsplit(link).query)
    assert args["caller"] == [keys[0]] and "from" in args and "to" in args and "1555777" not in link
    calls = browser.get(link).get_data(as_text=True)
    assert all(sid in calls for sid in risky["sids"]) and risky["other"] not in calls
    assert "Only the calls of caller" in calls and "1–3 of 3 calls" in calls

    tasks_link = re.search(r'<a class="tasks" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    tasks = browser.get(tasks_link).get_data(as_text=True)
    assert f'id="task-{risky["task"]}"' in tasks and "Only the tasks of caller" in tasks
    assert "1 tasks, 1 overdue" in tasks


def test_an_unknown_caller_key_is_visibly_ignored(browser, risky):
    browser.login("supervisor")
    for path in ("/calls?caller=CAnobody", "/callbacks?caller=%2B15557770001"):
        page = browser.get(path).get_data(as_text=True)
        assert "Caller: “" in page and "is not a known value" in page and "Only the" not in page


def test_paging_says_n_of_m(browser, risky, monkeypatch):
    monkeypatch.setattr("dashboard.customers.PAGE_SIZE", 2)
    browser.login("supervisor")
    first = browser.get("/at-risk").get_data(as_text=True)
    assert "1–2 of 3 callers" in first and len(rows(first)) == 2 and 'rel="next"' in first
    second = browser.get("/at-risk?page=2").get_data(as_text=True)
    assert "3–3 of 3 callers" in second and len(rows(second)) == 1
    assert len(set(rows(first)) | set(rows(second))) == 3


def test_russian_declines_the_reasons_and_shows_no_english(browser, risky):
    browser.post("/lang", {"lang": "ru", "back": "/"})
    browser.login("supervisor")
    page = browser.get("/at-risk").get_data(as_text=True)
    assert "3 ответа «вопрос не решён»" in page and "2 повторных звонка" in page and "1 перезвон просрочен" in page
    assert "4 звонка брошены в очереди" in page and "1 ответ «вопрос не решён»" in page
    assert "1 повторный звонок" in page
    assert "1–3 из 3 клиентов" in page
    text = visible(page)
    assert not [piece for piece, pattern in english_words() if pattern.search(text)]


def test_an_empty_window_says_so(browser, seeded):
    browser.login("supervisor")
    page = browser.get("/at-risk").get_data(as_text=True)
    assert "No caller is at risk in this window." in page and not rows(page)


def test_the_scorecards_show_the_index_by_week_beside_the_sla(browser, risky):
    browser.login("supervisor")
    page = browser.get("/scorecards").get_data(as_text=True)
    panel = page[page.index('id="index-panel"'):page.index('id="cx-panel"')]
    assert "Satisfaction index by week" in panel and "<svg" in panel and "s-index" in panel
    assert page.index('id="sla-panel"') < page.index('id="index-panel"')


def test_the_cli_lists_the_same_callers_masked(app, risky):
    result = app.test_cli_runner().invoke(args=["callers", "at-risk", "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "3 at risk of" in lines[0] and len(lines) == 3
    assert lines[1].startswith("1\t") and f"key {risky['sids'][0]}" in lines[1]
    assert "unresolved 3, repeat_call 2, task_overdue 1" in lines[1]
    assert "+1555777" not in result.output and "0001" in lines[1]
