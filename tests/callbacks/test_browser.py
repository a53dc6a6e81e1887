"""The call-back worklist in a real headless Chromium, in English and Russian: the supervisor
sees their team's tasks overdue first, records a call and its outcome, and pages through."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from aftercall.app import create_app
from callbacks.tasks import open_tasks, set_team_supervisor
from store.callbacks import CallbackTask
from store.users import User
from tests.browser import auth, chromium, database_copy, needs_chromium, page, shot, serving  # noqa: F401  (fixtures)
from tests.conftest import make_settings
from tests.dashboard.seed import USERS, seed

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    db = database_copy(tmp_path_factory.mktemp("browser-callbacks"), sqlite_template)
    seed(db)
    app = create_app(make_settings(db), db=db)
    with db.session() as s:
        sup = s.scalar(select(User).where(User.email == USERS["supervisor"]))
        set_team_supervisor(s, "north", sup.id, actor="test")
        opened = open_tasks(s, app.config["MENU"].hours, lookback_days=100000)
        assert opened
    with serving(app) as url:
        yield {"url": url, "db": db}
    db.dispose()


def test_supervisor_works_the_list_in_english_and_russian(server, page, auth):
    db = server["db"]
    auth.login("supervisor")
    page.click("text=Call-backs")
    assert "/callbacks" in page.url
    with db.session() as s:
        mine = s.scalar(select(CallbackTask.id).where(CallbackTask.team == "north").order_by(CallbackTask.due_at,
                                                                                                CallbackTask.id))
        south = s.scalar(select(CallbackTask.id).where(CallbackTask.team == "south"))
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() >= 1 and rows.first.get_attribute("id") == f"task-{mine}"
    assert page.locator(f"#task-{south}").count() == 0          # another team's: under "All" only
    assert " of " in page.locator("#pager").inner_text() and "tasks" in page.locator("#pager").inner_text()
    shot(page, "callbacks-en")

    row = page.locator(f"#task-{mine}")
    row.locator("form.task-row select[name=state]").select_option("called")
    row.locator("form.task-row input[name=note]").fill("left a message")
    row.locator("form.task-row button.save").click()
    page.wait_for_load_state()
    assert f"Task {mine}: called." in page.locator(".flash").inner_text()
    assert "left a message" in page.locator(f"#task-{mine}").inner_text()

    page.click("#scope-all")
    assert page.locator(f"#task-{south}").count() == 1
    assert "unassigned" in page.locator(f"#task-{south}").inner_text()

    page.click("button[name=lang][value=ru]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Задачи перезвона"
    assert " из " in page.locator("#pager").inner_text() and "задач" in page.locator("#pager").inner_text()
    assert "звонили" in page.locator(f"#task-{mine}").inner_text()
    page.locator(f"#task-{mine} form.task-row select[name=state]").select_option("resolved")
    page.locator(f"#task-{mine} form.task-row button.save").click()
    page.wait_for_load_state()
    assert f"Задача {mine}: решена." in page.locator(".flash").inner_text()
    shot(page, "callbacks-ru")
    with db.session() as s:
        assert s.get(CallbackTask, mine).state == "resolved"
