"""Agents and disputes end to end in a real Chromium, in both languages: an agent logs in from
an invitation link an admin made, reads their card (at 1366 px and at a phone's 390 px) and
disputes three flags; a supervisor rejects one and accepts another, which changes the agent's
pay in the bonus file; HR's lock lists the dispute still open and locks anyway with a reason."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from aftercall import jobs
from aftercall.app import create_app
from scoring.payroll.periods import period_rows
from scoring.scorecards.config import DEFAULT_FILE
from store.base import utcnow
from store.disputes import Dispute
from store.flags import Flag
from tests.browser import AuthActions, chromium, database_copy, needs_chromium, shot, serving  # noqa: F401  (fixtures)
from tests.conftest import make_settings
from tests.dashboard.seed import CALLS_PER_AGENT, PERIOD, USERS, seed

pytestmark = needs_chromium
NEW_PASSWORD = "my own long password"
WORDS = {"en": {"card": "My card", "rejected": "rejected", "accepted": "accepted"},
         "ru": {"card": "Моя карточка", "rejected": "отклонён", "accepted": "принят"}}


@pytest.fixture
def served(tmp_path, sqlite_template, monkeypatch):
    # the seed's agents have a handful of answers each: a lower minimum gives them tiers, so a
    # flag's penalty moves the multiplier, the pay itself
    scoring = tmp_path / "scoring.toml"
    scoring.write_text(DEFAULT_FILE.read_text(encoding="utf-8").replace("min_responses = 20", "min_responses = 3"),
                       encoding="utf-8")
    monkeypatch.setenv("SCORING_FILE", str(scoring))
    db = database_copy(tmp_path, sqlite_template)
    out = seed(db)
    with db.session() as s:      # dan's flags, raised just now; his cap-cut verdict upheld: it costs him pay
        sid = f"CA{CALLS_PER_AGENT * 3 + 2:032d}"
        s.add(Flag(key="truncated:browser", kind="truncated", leg_id=out["legs"][sid], call_sid=sid, agent_id="dan",
                   occurred_at=s.get(Flag, out["flags"]["cap-cut"]).occurred_at, reason="short agent-ended call",
                   evidence={"talk_seconds": 20, "threshold_seconds": 45}, rule_version="2026-11-r1"))
        s.flush()
        for f in s.scalars(select(Flag).where(Flag.agent_id == "dan")):
            f.created_at = utcnow()
        s.get(Flag, out["flags"]["cap-cut"]).state = "confirmed"
        out["flags"]["truncated-dan"] = s.scalar(select(Flag.id).where(Flag.key == "truncated:browser"))
    with serving(create_app(make_settings(db), db=db)) as url:
        yield {"url": url, "db": db, **out}
    db.dispose()


def _dan(db) -> dict:
    with db.session() as s:
        _, rows = period_rows(s, PERIOD)
    return next(r for r in rows if r["agent_id"] == "dan")


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_invitation_card_disputes_decisions_pay_and_lock(served, chromium, lang, tmp_path):
    url, db, flags = served["url"], served["db"], served["flags"]
    before = _dan(db)
    assert before["confirmed_flags"] == 1 and before["flag_penalty"] > 0 and not before["insufficient"]

    # the admin makes an invitation link for dan's user
    admin = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = AuthActions(admin.new_page(), url).login("admin", lang)
    page.goto(url + "/admin/users")
    page.locator("tr", has_text=USERS["agent"]).locator("form[action$='/invite'] button").click()
    page.wait_for_load_state()
    link = page.locator("#invite-link code").inner_text()
    assert "/invite/" in link
    admin.close()

    # dan opens it, sets a password, logs in with it and lands on his card
    agent = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = agent.new_page()
    page.goto(url + "/login")
    page.click(f"button[name=lang][value={lang}]")
    page.goto(link)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=again]", NEW_PASSWORD)
    page.click("#set-password")
    page.wait_for_load_state()
    assert page.url.endswith("/login")
    page.fill("input[name=email]", USERS["agent"])
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("#login")
    page.wait_for_load_state()
    assert page.url.endswith("/me")
    page.goto(url + f"/me?period={PERIOD}")
    assert WORDS[lang]["card"] in page.locator("h1").inner_text()
    assert page.locator("#outlook").inner_text().strip()
    assert page.locator("#my-calls-table tbody tr").count() > 0
    assert "+1555" not in page.content()
    assert _no_sideways_scroll(page)
    shot(page, f"agent-card-1366-{lang}")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert _no_sideways_scroll(page), "the card scrolls sideways on a phone"
    shot(page, f"agent-card-390-{lang}")
    page.set_viewport_size({"width": 1366, "height": 800})

    for kind, reason in (("cap-cut", "The line dropped at 12:58."), ("cap-cliff", "Long calls are my queue."),
                         ("truncated-dan", "The caller had the wrong number.")):
        row = page.locator(f"#my-flag-{flags[kind]}")
        row.locator("input[name=reason]").fill(reason)
        row.locator("form.dispute button").click()
        page.wait_for_load_state()
        assert page.locator(".flash.ok").count() == 1
    with db.session() as s:
        disputes = {d.flag_id: d.id for d in s.scalars(select(Dispute))}
    assert len(disputes) == 3 and _dan(db)["disputes_open"] == 3

    # the supervisor rejects the finding's dispute and accepts the verdict's
    sup = chromium.new_context(viewport={"width": 1366, "height": 800})
    page2 = AuthActions(sup.new_page(), url).login("supervisor", lang)
    page2.goto(url + "/flags")
    row = page2.locator(f"#dispute-{disputes[flags['cap-cliff']]}")
    assert "Long calls are my queue." in row.inner_text()
    row.locator("input[name=comment]").fill("Peers on your queue do not pile up there.")
    row.locator("button.reject-dispute").click()
    page2.wait_for_load_state()
    row = page2.locator(f"#dispute-{disputes[flags['cap-cut']]}")
    row.locator("input[name=comment]").fill("The carrier confirms the drop.")
    row.locator("button.accept-dispute").click()
    page2.wait_for_load_state()
    assert page2.locator("#disputes-table tbody tr").count() == 1
    sup.close()

    # the agent reads both answers
    page.goto(url + f"/me?period={PERIOD}&calls_page=1")     # a new URL: a fresh page, not a jump
    answers = page.locator("#my-disputes-table").inner_text()
    assert "The carrier confirms the drop." in answers and "Peers on your queue do not pile up there." in answers
    assert WORDS[lang]["accepted"] in answers and WORDS[lang]["rejected"] in answers
    agent.close()

    # HR: the lock lists the open dispute; locked anyway, the bonus file pays the accepted one
    hr = chromium.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    page3 = AuthActions(hr.new_page(), url).login("hr", lang)
    page3.goto(url + f"/hr/periods/{PERIOD}/lock")
    assert page3.locator("#lock-disputes tbody tr").count() == 1
    assert "The caller had the wrong number." in page3.locator("#lock-disputes").inner_text()
    page3.fill("textarea[name=reason]", "payroll cannot wait")
    page3.click("#confirm-lock")
    page3.wait_for_load_state()
    assert page3.url.endswith(f"/hr/periods/{PERIOD}/lock")          # refused without "lock anyway"
    page3.fill("textarea[name=reason]", "payroll cannot wait")
    page3.check("#lock-anyway")
    page3.click("#confirm-lock")
    page3.wait_for_load_state()
    assert page3.url.endswith("/hr/periods")
    page3.locator(f"#period-{PERIOD} select[name=fmt]").select_option("csv")
    page3.locator(f"#period-{PERIOD} button.export").click()
    page3.wait_for_load_state()
    assert jobs.run_pending_once(db) >= 1
    page3.goto(url + "/hr/periods")
    with page3.expect_download() as dl:
        page3.locator(f"#files a >> text=bonus-{PERIOD}.csv").click()
    target = tmp_path / "bonus.csv"
    dl.value.save_as(target)
    hr.close()
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    dan = next(r for r in rows if r["agent_id"] == "dan")
    assert list(rows[0])[-1] == "disputes_open"
    assert dan["confirmed_flags"] == "0" and dan["disputes_open"] == "1"      # the accepted verdict no longer costs
    assert float(dan["flag_penalty"]) == 0 and float(dan["composite"]) > before["composite"]
    assert float(dan["multiplier"]) > before["multiplier"]                   # and the pay rose with it
