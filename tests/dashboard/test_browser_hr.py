"""HR on a fresh start, in a real Chromium, in both languages: calls placed like the demo's
(the week up to now, so the previous month has ended and has data) and no pay period stored.
From the browser alone HR sees that month, locks it through the confirmation with a reason,
exports it as CSV and XLSX and downloads both."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from accounts.users import create_user
from aftercall import jobs
from aftercall.app import create_app
from scoring.payroll import columns
from scoring.payroll.periods import COLUMNS, period_bounds, period_key_for
from store.accounts import AuditLog
from store.agents import Agent
from store.base import utcnow
from store.payroll import PayPeriod
from tests.browser import AuthActions, chromium, database_copy, needs_chromium, shot, serving  # noqa: F401  (fixtures)
from tests.conftest import make_settings
from tests.dashboard.seed import AGENT_USERS, AGENTS, PASSWORD, USERS, add_call

pytestmark = needs_chromium
WORDS = {"en": {"open": "open", "locked": "locked"}, "ru": {"open": "открыт", "locked": "закрыт"}}


def _demo_like(db) -> str:
    """Users, agents and calls every few hours from a week before the current month began up to
    an hour ago (the demo's week up to now, stretched back so a finished month has data)."""
    now = utcnow()
    first = period_bounds(period_key_for(now))[0]
    with db.session() as s:
        for agent_id, team in AGENTS:
            s.add(Agent(id=agent_id, name=agent_id.title(), team=team, skills=["billing", "tech"]))
        s.flush()
        for role, email in USERS.items():
            create_user(s, email, PASSWORD, "agent" if role in AGENT_USERS else role, actor="seed",
                        name=AGENT_USERS[role].title() if role in AGENT_USERS else role.title(),
                        agent_id=AGENT_USERS.get(role))
        at, n = first - timedelta(days=7), 0
        while at < now - timedelta(hours=1):
            for agent_id, _ in AGENTS:
                n += 1
                add_call(s, f"CA{n:032d}", agent_id, at + timedelta(minutes=n % 50), 200 + n % 400, "agent",
                         {"adequate": 1 + n % 2, "satisfaction": 1 + n % 5, "anything_else": 2})
            at += timedelta(hours=5)
    return period_key_for(first - timedelta(days=1))


@pytest.fixture
def fresh(tmp_path, sqlite_template):
    db = database_copy(tmp_path, sqlite_template)
    month = _demo_like(db)
    with serving(create_app(make_settings(db), db=db)) as url:
        yield {"url": url, "db": db, "month": month}
    db.dispose()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_hr_locks_and_exports_the_last_month_from_the_browser_alone(fresh, chromium, lang, tmp_path):
    url, month, db = fresh["url"], fresh["month"], fresh["db"]
    with db.session() as s:
        assert s.scalars(select(PayPeriod)).all() == []                 # nothing stored: a fresh start
        s.add(Agent(id="zoe", name="Zoe", team="north", skills=["billing"], employee_number="T-7"))
        s.flush()                                                       # one call: too few answers
        add_call(s, "CA" + "9" * 32, "zoe", period_bounds(month)[0] + timedelta(days=2), 300, "agent",
                 {"adequate": 1, "satisfaction": 5, "anything_else": 2})
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = AuthActions(context.new_page(), url).login("hr", lang)

    page.goto(url + "/hr/periods")
    row = page.locator(f"#period-{month}")
    assert row.locator(".state").inner_text() == WORDS[lang]["open"]
    assert page.locator(f"#period-{period_key_for(utcnow())}").count() == 1   # the current month too
    row.locator("a.lock").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/hr/periods/{month}/lock")
    assert len(page.locator("#lock-preview .mono").inner_text()) == 64       # the checksum to be stored
    warning = page.locator("#lock-insufficient").inner_text()              # who is paid what the rule gives
    assert ("1 of 5 agents" if lang == "en" else "У 1 из 5 операторов") in warning and "×" in warning
    page.click("#confirm-lock")                                             # no reason: the form does not go
    assert page.url.endswith(f"/hr/periods/{month}/lock")
    page.fill("textarea[name=reason]", "payroll run" if lang == "en" else "расчёт зарплаты")
    page.click("#confirm-lock")
    page.wait_for_load_state()
    assert page.url.endswith("/hr/periods")
    assert page.locator(".flash.ok").count() == 1
    assert page.locator(f"#period-{month} .state .badge.locked").inner_text() == WORDS[lang]["locked"]
    shot(page, f"hr-fresh-locked-{lang}")

    downloads = {}
    for fmt in ("csv", "xlsx"):
        page.locator(f"#period-{month} select[name=fmt]").select_option(fmt)
        page.locator(f"#period-{month} button.export").click()
        page.wait_for_load_state()
        assert jobs.run_pending_once(db) == 1                               # what the worker would do
        page.goto(url + "/hr/periods")
        with page.expect_download() as dl:
            page.locator(f"#files a >> text=bonus-{month}.{fmt}").click()
        assert dl.value.suggested_filename == f"bonus-{month}.{fmt}"
        target = tmp_path / dl.value.suggested_filename
        dl.value.save_as(target)
        downloads[fmt] = target.read_bytes()
    rows = list(csv.DictReader(io.StringIO(downloads["csv"].decode("utf-8-sig"))))
    everyone = sorted([a for a, _ in AGENTS] + ["zoe"])
    assert sorted(r["agent_id"] for r in rows) == everyone and "employee_number" in rows[0]
    book = load_workbook(io.BytesIO(downloads["xlsx"]))
    sheet = book.active
    assert sorted(r[3] for r in sheet.iter_rows(min_row=2, values_only=True)) == everyone
    headers = [c.value for c in sheet[1]]                                  # in the exporting user's language
    assert headers == [columns.header(c, lang) for c in COLUMNS]
    assert headers[:2] == (["Paid in period", "Row"] if lang == "en" else ["Период выплаты", "Строка"])
    zoe = next(dict(zip(COLUMNS, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[3] == "zoe")
    assert (zoe["tier"], zoe["employee_number"]) == (columns.word("insufficient-data", lang), "T-7")
    assert [r[1] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)] == list(COLUMNS)
    context.close()

    with db.session() as s:
        period = s.get(PayPeriod, month)
        assert (period.state, period.locked_by) == ("locked", USERS["hr"])
        lock = s.scalar(select(AuditLog).where(AuditLog.action == "period.lock"))
        assert lock.detail["reason"] in ("payroll run", "расчёт зарплаты")
        assert [e.action for e in s.scalars(select(AuditLog).where(AuditLog.action.like("export.%")))
                ].count("export.download") == 2
