"""The worklist page: scopes, overdue first, paging, filters, state and owner changes, roles, Russian."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aftercall.callbacks import sweep
from store.accounts import AuditLog
from store.base import utcnow
from store.callbacks import CallbackTask
from tests.callbacks.conftest import SWEEP_AT, surveyed
from tests.conftest import make_settings
from tests.dashboard.conftest import Browser

PASSWORD = "correct horse battery"


@pytest.fixture
def tasks(app, database, team, twilio):
    for n in range(3):
        surveyed(twilio, f"CA-{n}", "2", caller=f"+1555000{n}999")
    surveyed(twilio, "CA-s", "2", option="2")      # Carol, team south: unassigned
    sweep(make_settings(database), database, now=SWEEP_AT)
    with database.session() as s:   # CA-2 is the most overdue, CA-0 not yet due
        for n in range(3):
            s.execute(update(CallbackTask).where(CallbackTask.call_sid == f"CA-{n}")
                      .values(due_at=utcnow() + timedelta(days=1 - n)))
        return {t.call_sid: t.id for t in s.scalars(select(CallbackTask))}


def login(app, email="sup@example.com") -> Browser:
    b = Browser(app.test_client())
    b.get("/login")
    resp = b.post("/login", {"email": email, "password": PASSWORD})
    assert resp.status_code == 302
    b.get(resp.headers["Location"])
    return b


def order(html: str, ids: dict) -> list[str]:
    found = sorted((html.find(f'id="task-{i}"'), sid) for sid, i in ids.items() if f'id="task-{i}"' in html)
    return [sid for _, sid in found]


def test_mine_team_all_with_overdue_first_and_masked_numbers(app, tasks):
    b = login(app)
    page = b.get("/callbacks").get_data(as_text=True)
    assert order(page, tasks) == ["CA-2", "CA-1", "CA-0"]
    assert "3 tasks, 2 overdue" in page and "1–3 of 3 tasks" in page
    assert "•••1999" in page and "+1555000" not in page
    assert order(b.get("/callbacks?scope=team").get_data(as_text=True), tasks) == ["CA-2", "CA-1", "CA-0"]
    everyone = b.get("/callbacks?scope=all").get_data(as_text=True)
    assert set(order(everyone, tasks)) == set(tasks) and "unassigned" in everyone
    assert order(b.get("/callbacks?scope=all&team=south").get_data(as_text=True), tasks) == ["CA-s"]
    assert order(b.get("/callbacks?overdue=1").get_data(as_text=True), tasks) == ["CA-2", "CA-1"]


def test_paging_says_n_of_m(app, tasks, monkeypatch):
    monkeypatch.setattr("dashboard.callbacks.PAGE_SIZE", 2)
    b = login(app)
    first = b.get("/callbacks").get_data(as_text=True)
    assert "1–2 of 3 tasks" in first and "page 1 of 2" in first
    assert order(first, tasks) == ["CA-2", "CA-1"] and 'rel="next"' in first
    second = b.get("/callbacks?page=2").get_data(as_text=True)
    assert "3–3 of 3 tasks" in second and order(second, tasks) == ["CA-0"]
    assert "3–3 of 3 tasks" in b.get("/callbacks?page=99").get_data(as_text=True)


@pytest.mark.parametrize("query, says", [("scope=everyone", "Whose: “everyone” is not a known value"),
                                         ("state=done", "State: “done” is not a known value"),
                                         ("team=west", "Team: “west” is not a known value"),
                                         ("page=abc", "Page: “abc” is not a page number")])
def test_a_bad_filter_is_visibly_ignored(app, tasks, query, says):
    assert says in login(app).get(f"/callbacks?{query}").get_data(as_text=True)


def test_state_changes_and_reassignment_are_saved_and_audited(app, database, tasks, team):
    b = login(app)
    task = tasks["CA-1"]
    resp = b.post(f"/callbacks/{task}/state", {"state": "called", "back": "/callbacks"}, follow_redirects=True)
    assert f"Task {task}: called." in resp.get_data(as_text=True)
    resp = b.post(f"/callbacks/{task}/state", {"state": "resolved", "note": " refund explained "},
                  follow_redirects=True)
    assert order(resp.get_data(as_text=True), tasks) == ["CA-2", "CA-0"]     # finished: off the to-do list
    resp = b.post(f"/callbacks/{tasks['CA-2']}/assign", {"owner": str(team["sup2"])}, follow_redirects=True)
    assert "assigned to sup2@example.com" in resp.get_data(as_text=True)
    assert order(resp.get_data(as_text=True), tasks) == ["CA-0"]
    with database.session() as s:
        assert s.get(CallbackTask, task).note == "refund explained"
        assert [(a.actor, a.action) for a in s.scalars(select(AuditLog).where(
            AuditLog.action.in_(["callback.state", "callback.reassign"])).order_by(AuditLog.id))] == [
            ("sup@example.com", "callback.state"), ("sup@example.com", "callback.state"),
            ("sup@example.com", "callback.reassign")]


@pytest.mark.parametrize("path, form, says", [
    ("state", {"state": "not-reached"}, "cannot become"),
    ("state", {"state": "gone"}, "must be one of"),
    ("state", {"state": "called", "note": "x" * 501}, "at most 500"),
    ("assign", {"owner": "abc"}, "not an active supervisor"),
])
def test_refused_changes_say_why_and_change_nothing(app, database, tasks, team, path, form, says):
    b = login(app)
    resp = b.post(f"/callbacks/{tasks['CA-0']}/{path}", form, follow_redirects=True)
    assert says in resp.get_data(as_text=True)
    with database.session() as s:
        task = s.get(CallbackTask, tasks["CA-0"])
        assert (task.state, task.owner_id, task.note) == ("open", team["sup"], "")
        assert s.scalar(select(AuditLog).where(AuditLog.action.in_(["callback.state", "callback.reassign"]))) is None


def test_unknown_task_roles_and_russian(app, tasks):
    b = login(app)
    resp = b.post("/callbacks/99999/state", {"state": "called"}, follow_redirects=True)
    assert "There is no call-back task 99999" in resp.get_data(as_text=True)
    assert login(app, "hr@example.com").get("/callbacks").status_code == 403
    assert Browser(app.test_client()).get("/callbacks").status_code == 302
    b.post("/lang", {"lang": "ru"})
    page = b.get("/callbacks").get_data(as_text=True)
    assert "Задачи перезвона" in page and "Задач: 3, просрочено: 2" in page and "1–3 из 3 задач" in page
    said = b.post(f"/callbacks/{tasks['CA-0']}/state", {"state": "not-reached"},
                  follow_redirects=True).get_data(as_text=True)
    assert "Задача в состоянии «открыта» не может перейти в «не дозвонились»" in said
    assert "cannot become" not in said


def test_recovery_rate_beside_the_scorecard(app, database, tasks):
    from datetime import datetime, timezone

    from callbacks.worklist import recovery
    b = login(app)
    b.post(f"/callbacks/{tasks['CA-1']}/state", {"state": "resolved", "note": "done"})
    start, end = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
    with database.session() as s:
        assert recovery(s, start, end, "team") == {"north": (3, 1), "south": (1, 0)}
        assert recovery(s, start, end, "agent") == {"alice": (3, 1), "carol": (1, 0)}
        assert recovery(s, end, end + timedelta(days=30), "team") == {}
    page = b.get("/scorecards?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    panel = page[page.index('id="recovery-panel"'):]
    assert "Team north" in panel and "33" in panel and 'id="recovery-alice"' in panel
    south = b.get("/scorecards?from=2026-11-01&to=2026-11-30&team=south").get_data(as_text=True)
    assert 'id="recovery-carol"' in south and 'id="recovery-alice"' not in south
