"""HR's periods page from the start: every month with calls and the current one, each with its
state; a lock only through the confirmation page (the numbers it freezes, a reason that is
required and audit-logged); a locked period marked wherever it is shown."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from scoring.payroll.periods import lock_preview, period_key_for
from store.accounts import AuditLog
from store.base import utcnow
from store.jobs import Job
from store.payroll import PayPeriod
from tests.dashboard.seed import PERIOD, USERS, add_call
from tests.dashboard.test_bad_input import flashes

AUGUST = "2026-08"          # calls, but no pay_periods row


def _august_calls(database):
    with database.session() as s:
        add_call(s, "CA9" + "0" * 31, "ann", datetime(2026, 8, 12, 9, 0, tzinfo=timezone.utc), 300, "agent",
                 {"adequate": 1, "satisfaction": 5, "anything_else": 2})


def _period_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="period-([^"]+)"', html)


def test_periods_page_lists_months_with_calls_and_the_current_one(app, browser, database, seeded):
    _august_calls(database)
    current = period_key_for(utcnow())
    browser.login("hr")
    page = browser.get("/hr/periods").get_data(as_text=True)
    assert _period_rows(page) == [current, "2026-11", PERIOD, AUGUST]          # newest first
    assert "August 2026" in page and page.count("Nothing to show") == 1     # no exports yet, but periods
    scorecards = browser.get(f"/scorecards?period={AUGUST}").get_data(as_text=True)
    assert not flashes(browser) and "<b>August 2026</b>" in scorecards
    assert f'<option value="{AUGUST}" selected>August 2026</option>' in scorecards
    with database.session() as s:
        assert s.get(PayPeriod, AUGUST) is None and s.get(PayPeriod, current) is None
    listed = app.test_cli_runner().invoke(args=["export", "periods"])
    assert listed.exit_code == 0
    assert [line.split()[:2] for line in listed.output.splitlines()] == [
        [current, "open"], ["2026-11", "open"], [PERIOD, "open"], [AUGUST, "open"]]


def test_lock_goes_through_a_confirmation_with_a_required_reason(app, browser, database, seeded):
    _august_calls(database)
    browser.login("hr")
    with database.session() as s:
        expected = lock_preview(s, AUGUST)
    confirm = browser.get(f"/hr/periods/{AUGUST}/lock")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "cannot be undone" in page and "adjustment in the next open period" in page
    assert expected.checksum in page and re.search(r"Handled calls</th><td[^>]*>1<", page)
    assert 'name="reason"' in page and "csrf_token" in page

    resp = browser.post(f"/hr/periods/{AUGUST}/lock", {"reason": " "})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/hr/periods/{AUGUST}/lock")
    assert flashes(browser) == ["Say why the period is locked now: a reason is required."]
    assert browser.post(f"/hr/periods/{AUGUST}/lock", {"reason": "ok"}, csrf=False).status_code == 400
    with database.session() as s:
        assert s.get(PayPeriod, AUGUST) is None and not s.scalars(select(Job)).all()

    browser.post(f"/hr/periods/{AUGUST}/lock", {"reason": "August payroll is final"})
    assert flashes(browser) == [f"Period {AUGUST} locked."]
    with database.session() as s:
        period = s.get(PayPeriod, AUGUST)
        assert (period.state, period.locked_by, period.checksum) == ("locked", USERS["hr"], expected.checksum)
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "period.lock", AuditLog.target == AUGUST))
        assert (entry.actor, entry.detail["reason"]) == (USERS["hr"], "August payroll is final")

    page = browser.get("/hr/periods").get_data(as_text=True)
    row = page[page.index(f'id="period-{AUGUST}"'):].split("</tr>")[0]
    assert '<span class="badge locked">locked</span>' in row and "Lock…" not in row
    assert browser.get(f"/hr/periods/{AUGUST}/lock").status_code == 302         # nothing left to confirm
    assert flashes(browser) == [f"Period {AUGUST} is already locked."]
    browser.post("/lang", {"lang": "ru", "back": "/"})
    scorecards = browser.get(f"/scorecards?period={AUGUST}").get_data(as_text=True)
    assert f'<option value="{AUGUST}" selected>август 2026 · закрыт</option>' in scorecards
    assert '<span class="badge locked">закрыт</span>' in scorecards
    agent = browser.get(f"/agents/ann?period={AUGUST}").get_data(as_text=True)
    assert '<span class="badge locked">закрыт</span>' in agent
    assert "август 2026" in browser.get("/hr/periods").get_data(as_text=True)


def test_an_unfinished_period_is_refused_before_any_confirmation(browser, database, seeded):
    current = period_key_for(utcnow())
    browser.login("hr")
    page = browser.get("/hr/periods").get_data(as_text=True)
    row = page[page.index(f'id="period-{current}"'):].split("</tr>")[0]
    assert "/lock" not in row and "Can be locked after" in row   # no button, but when it will be
    resp = browser.get(f"/hr/periods/{current}/lock")
    assert resp.status_code == 302
    [said] = flashes(browser)
    assert said.startswith(f"Period {current} ends ") and said.endswith("it can be locked once it has ended.")
    browser.post(f"/hr/periods/{current}/lock", {"reason": "early"})
    assert flashes(browser) == [said]
    with database.session() as s:
        assert s.get(PayPeriod, current) is None or s.get(PayPeriod, current).state == "open"
        assert not s.scalars(select(AuditLog).where(AuditLog.action == "period.lock")).all()
