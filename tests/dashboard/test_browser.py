"""The dashboard in a real headless Chromium: log in, filter, drill down, review a flag,
lock a period and download its export; and what each role may not do.

The app is served by werkzeug on a free local port from a thread, against a seeded SQLite
database (the browser is the slow part; the server tests cover PostgreSQL too).
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from aftercall import jobs
from aftercall.app import create_app
from store.accounts import AuditLog
from store.flags import Flag
from store.payroll import PayPeriod
from tests.conftest import make_settings
from tests.browser import AuthActions, auth, chromium, database_copy, needs_chromium, page, shot, serving  # noqa: F401  (fixtures)
from tests.dashboard.seed import PERIOD, USERS, seed

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    db = database_copy(tmp_path_factory.mktemp("browser"), sqlite_template)
    info = seed(db)
    with serving(create_app(make_settings(db), db=db)) as url:
        yield {"url": url, "db": db, "info": info}
    db.dispose()


def test_supervisor_filters_drills_down_and_reviews_a_flag(server, page, auth):
    url = server["url"]
    auth.login("supervisor")
    page.select_option("select[name=period]", PERIOD)
    page.click("#apply")
    assert f"period={PERIOD}" in page.url
    rows = page.locator("#scorecards tbody tr")
    assert rows.count() == 4
    assert page.locator("#sla-panel").inner_text().count("%") >= 2
    shot(page, "scorecards")

    page.select_option("select[name=team]", "south")
    page.click("#apply")
    assert sorted(page.locator("#scorecards tbody tr").evaluate_all("rs => rs.map(r => r.dataset.agent)")) == ["cat", "dan"]
    page.click("th.sortable >> text=Handled")
    assert "sort=handled" in page.url

    page.click("#scorecards >> text=Dan")
    assert "/agents/dan" in page.url
    assert page.locator("svg.chart").count() >= 2          # trend and handle-time
    assert page.locator("svg.chart .cap").count() == 1      # the cap line is drawn
    shot(page, "agent")

    page.locator("#calls tbody tr a").first.click()
    assert "/calls/CA" in page.url
    timeline = page.locator("#timeline").inner_text()
    assert "IVR" in timeline and "Queue billing" in timeline and "Ended by" in timeline
    shot(page, "call")

    page.goto(url + "/flags")
    flag_id = server["info"]["flags"]["cap-cliff"]
    page.locator(f"#finding-{flag_id} a.all-calls").click()
    assert f"/flags/{flag_id}" in page.url and page.locator("#finding-calls tbody tr").count() == 12
    page.locator("#review-one input[name=comment]").fill("Listened to the recording: cut at 12:52.")
    page.locator("#review-one button[value=confirm]").click()
    page.wait_for_load_state()
    assert "confirmed" in page.locator(".flash.ok").inner_text()
    with server["db"].session() as s:
        flag = s.get(Flag, flag_id)
        assert (flag.state, flag.reviewed_by) == ("confirmed", USERS["supervisor"])
        assert s.scalar(select(AuditLog).where(AuditLog.action == "flag.confirm")).actor == USERS["supervisor"]


def test_hr_locks_a_period_and_downloads_its_export(server, page, auth):
    url = server["url"]
    auth.login("hr")
    page.goto(url + "/hr/periods")
    page.locator(f"#period-{PERIOD} a.lock").click()           # the confirmation page
    page.fill("textarea[name=reason]", "October is final")
    page.click("#confirm-lock")
    page.wait_for_load_state()
    assert page.locator(f"#period-{PERIOD} .state").inner_text() == "locked"
    page.locator(f"#period-{PERIOD} select[name=fmt]").select_option("csv")
    page.locator(f"#period-{PERIOD} button.export").click()
    page.wait_for_load_state()
    assert page.locator("#jobs tbody tr").first.get_attribute("class") == "job-pending"
    assert jobs.run_pending_once(server["db"]) == 1          # what the worker would do
    page.goto(url + "/hr/periods")
    with page.expect_download() as dl:
        page.locator("#jobs a.download").first.click()
    body = Path(dl.value.path()).read_text()
    assert dl.value.suggested_filename == f"bonus-{PERIOD}.csv"
    assert "dan" in body and "ann" in body
    shot(page, "periods")
    with server["db"].session() as s:
        assert s.get(PayPeriod, PERIOD).locked_by == USERS["hr"]
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"period.lock", "export.bonus", "export.download"} <= actions


def test_roles_are_enforced_in_the_browser(server, page, auth):
    url = server["url"]
    page.goto(url + "/scorecards")                             # anonymous: only the login page
    assert "/login" in page.url and page.locator("input[name=password]").count() == 1
    for path in ("/flags", "/hr/periods", "/admin/users", f"/calls/{server['info']['cut_sid']}"):
        page.goto(url + path)
        assert "/login" in page.url

    auth.login("hr")
    response = page.goto(url + "/flags")
    assert response.status == 403
    assert page.locator("nav >> text=Flags").count() == 0

    page.context.clear_cookies()
    auth.login("supervisor")
    response = page.goto(url + "/hr/periods")
    assert response.status == 403


def test_russian_interface_and_handle_time_picture(server, page, auth):
    url = server["url"]
    auth.login("supervisor")
    page.click("button[value=ru]")
    page.wait_for_load_state()
    page.goto(url + f"/handle-time?period={PERIOD}")
    assert "Длительность разговоров" in page.locator("h1").inner_text()
    assert page.locator("#ht-dan svg .bar.near-cap").count() >= 1
    shot(page, "handle-time-ru")


WIDE_PAGES = {
    "supervisor": ["/scorecards", f"/scorecards?period={PERIOD}", f"/agents/dan?period={PERIOD}", "/handle-time",
                   "/calls", "/flags", "/flags?state=all", f"/calls?period={PERIOD}&q=0001&outcome=handled&queue=billing",
                   f"/agents/dan/calls/adequacy?period={PERIOD}", "/callbacks?scope=all", "/at-risk", "/profile"],
    "hr": ["/hr/periods", "/hr/periods/2026-11/lock", "/hr/audit", f"/scorecards?period={PERIOD}"],
    "admin": ["/admin/users", "/admin/agents", "/admin/tokens", "/admin/definitions"],
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_no_page_scrolls_sideways_at_1366_by_768(server, chromium, lang):
    url, wide = server["url"], []
    with server["db"].session() as s:
        call_sid = s.scalar(select(Flag.call_sid).where(Flag.call_sid.is_not(None)))
    for role, paths in WIDE_PAGES.items():
        context = chromium.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        AuthActions(page, url).login(role, lang)
        for path in paths + ([f"/calls/{call_sid}"] if role == "supervisor" else []):
            page.goto(url + path)
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if width[0] > width[1]:
                wide.append((path, width[0]))
                shot(page, f"wide-{lang}-{path.strip('/').replace('/', '-').replace('?', '-')}")
        context.close()
    assert not wide, f"pages wider than the 1366 px window ({lang}): {wide}"


def _september_findings(db) -> list[int]:
    """Three open findings of their own month, so this test does not depend on the others' order."""
    start, end = datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc)
    with db.session() as s:
        flags = [Flag(key=f"{kind}:agent:{agent}:2026-09", kind=kind, agent_id=agent, occurred_at=start,
                      period_end=end, reason="test finding", evidence={"observed": 9, "expected": 2.0, "leg_ids": []},
                      rule_version="2026-12-r1")
                 for agent, kind in (("ann", "early-hangup"), ("bob", "repeat-calls"), ("cat", "early-hangup"))]
        s.add_all(flags)
        s.flush()
        return [f.id for f in flags]


def test_supervisor_bulk_reviews_findings_in_both_languages(server, page, auth):
    url, db = server["url"], server["db"]
    ann, bob, cat = _september_findings(db)
    auth.login("supervisor")
    page.goto(url + "/flags")
    page.select_option("#queue-filters select[name=period]", "2026-09")
    page.click("#apply")
    assert "period=2026-09" in page.url
    assert page.locator("#shown").inner_text().startswith("1–3 of 3")
    page.check(f"#finding-{ann} input[name=ids]")
    page.check(f"#finding-{bob} input[name=ids]")
    page.fill("#bulk input[name=comment]", "Listened to five calls of each.")
    page.click("#bulk-confirm")
    page.wait_for_load_state()
    assert page.locator(".flash.ok").inner_text() == "Confirmed: 2."
    assert "period=2026-09" in page.url and page.locator("#shown").inner_text().startswith("1–1 of 1")
    shot(page, "findings-bulk-en")

    page.click("button[value=ru]")
    page.wait_for_load_state()
    assert "Признаки накрутки" in page.locator("h1").inner_text()
    page.select_option("#queue-filters select[name=agent]", "cat")
    page.click("#apply")
    assert page.locator("#shown").inner_text().startswith("1–1 из 1")
    page.check("#bulk input[value=matching]")
    page.fill("#bulk input[name=comment]", "Разобрали на планёрке: звонки были по делу.")
    page.click("#bulk-dismiss")
    page.wait_for_load_state()
    assert page.locator(".flash.ok").inner_text() == "Отклонено: 1."
    shot(page, "findings-bulk-ru")
    with db.session() as s:
        states = {i: (s.get(Flag, i).state, s.get(Flag, i).review_comment) for i in (ann, bob, cat)}
        audit = s.scalars(select(AuditLog).where(AuditLog.target.in_([f"flag:{i}" for i in (ann, bob, cat)]))).all()
    assert states == {ann: ("confirmed", "Listened to five calls of each."),
                      bob: ("confirmed", "Listened to five calls of each."),
                      cat: ("dismissed", "Разобрали на планёрке: звонки были по делу.")}
    assert sorted((a.action, a.actor) for a in audit) == [("flag.confirm", USERS["supervisor"])] * 2 + [
        ("flag.dismiss", USERS["supervisor"])]
