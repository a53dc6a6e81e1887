"""The agent role: an agent sees their own card and nothing else, disputes their flags, and the
supervisors' answers change the pay the way any flag review does (test client, both backends)."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from accounts.invitations import invite
from scoring.payroll.periods import period_rows
from store.accounts import AuditLog
from store.base import utcnow
from store.disputes import Dispute
from store.flags import Flag
from store.jobs import Job
from store.users import Invitation, User
from tests.dashboard.conftest import Browser
from tests.dashboard.seed import PASSWORD, PERIOD, USERS

FULL_NUMBER = re.compile(r"\+1555\d{7}")


def _fresh_flags(database, seeded):
    """The seed's flags were raised just now, so the dispute window is open."""
    with database.session() as s:
        for f in s.scalars(select(Flag)):
            f.created_at = utcnow()


def test_agent_lands_on_their_card_which_shows_only_them(browser, seeded, database):
    _fresh_flags(database, seeded)
    resp = browser.login("agent")
    assert resp.headers["Location"].endswith("/me")
    page = browser.get(f"/me?period={PERIOD}").get_data(as_text=True)
    assert "My card" in page and "Dan" in page
    assert "cut at the cap" in page                       # dan's own cap-cut verdict
    assert "survey dodging" not in page and "early hang-ups" not in page      # cat's and ann's findings
    assert not FULL_NUMBER.search(page)                   # callers' numbers masked
    assert "••••" in page
    for other in ("/agents/ann", "/agents/dan", "/calls", "/flags", f"/calls/{seeded['cut_sid']}", "/at-risk",
                  "/callbacks", "/hr/periods", "/admin/users", "/scorecards.csv", "/calls.csv",
                  f"/flags/{seeded['flags']['early-hangup']}", f"/flags/{seeded['flags']['cap-cliff']}",
                  "/agents/ann/calls/handled", "/agents/dan/calls/adequacy", "/flags.csv", "/profile"):
        assert browser.get(other).status_code == 403, other


def test_card_in_russian(browser, seeded):
    browser.login("agent")
    browser.post("/lang", {"lang": "ru", "back": "/me"})
    page = browser.get(f"/me?period={PERIOD}").get_data(as_text=True)
    assert "Моя карточка" in page and "Мои звонки" in page


def test_admins_are_not_agents(browser):
    browser.login("admin")
    assert browser.get("/me").status_code == 403


def test_dispute_accepted_dismisses_the_flag_and_recomputes_the_pay(browser, seeded, database):
    _fresh_flags(database, seeded)
    flag_id = seeded["flags"]["cap-cut"]          # dan's
    with database.session() as s:
        s.get(Flag, flag_id).state = "confirmed"
        _, rows = period_rows(s, PERIOD)
    before = next(r for r in rows if r["agent_id"] == "dan")
    assert before["confirmed_flags"] == 1 and before["disputes_open"] == 0
    browser.login("agent")
    assert browser.post(f"/me/flags/{flag_id}/dispute", {"reason": "The line dropped; see the carrier log."}
                        ).status_code == 302
    with database.session() as s:
        d = s.scalar(select(Dispute))
        assert (d.agent_id, d.flag_id, d.state) == ("dan", flag_id, "open")
        _, rows = period_rows(s, PERIOD)
        assert next(r for r in rows if r["agent_id"] == "dan")["disputes_open"] == 1
    # a second dispute of the same flag is refused
    browser.post(f"/me/flags/{flag_id}/dispute", {"reason": "again"})
    with database.session() as s:
        assert len(s.scalars(select(Dispute)).all()) == 1
    # the supervisor sees it in the queue with the agent's words, and accepts it
    sup = Browser(browser.client.application.test_client())
    sup.login("supervisor")
    queue = sup.get("/flags").get_data(as_text=True)
    assert "The line dropped; see the carrier log." in queue
    assert sup.post(f"/flags/disputes/{d.id}/decide", {"decision": "accept", "comment": "Carrier confirms the drop."}
                    ).status_code == 302
    with database.session() as s:
        assert s.get(Flag, flag_id).state == "dismissed"
        assert s.get(Dispute, d.id).state == "accepted"
        assert s.scalar(select(Job).where(Job.func == "scoring.payroll_jobs.recompute_scorecards")) is not None
        actions = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert {"dispute.open", "flag.dismiss", "dispute.accept"} <= set(actions)
        _, rows = period_rows(s, PERIOD)
    after = next(r for r in rows if r["agent_id"] == "dan")
    assert after["confirmed_flags"] == 0 and after["disputes_open"] == 0
    # the agent sees the answer
    page = browser.get(f"/me?period={PERIOD}").get_data(as_text=True)
    assert "Carrier confirms the drop." in page and "accepted" in page


def test_dispute_rejected_keeps_the_flag(browser, seeded, database):
    _fresh_flags(database, seeded)
    flag_id = seeded["flags"]["cap-cliff"]        # dan's finding
    browser.login("agent")
    browser.post(f"/me/flags/{flag_id}/dispute", {"reason": "Long calls are my queue."})
    sup = Browser(browser.client.application.test_client())
    sup.login("supervisor")
    with database.session() as s:
        d = s.scalar(select(Dispute))
    sup.post(f"/flags/disputes/{d.id}/decide", {"decision": "reject", "comment": ""})     # a comment is needed
    with database.session() as s:
        assert s.get(Dispute, d.id).state == "open"
    sup.post(f"/flags/disputes/{d.id}/decide", {"decision": "reject", "comment": "Peers on your queue do not."})
    with database.session() as s:
        assert s.get(Dispute, d.id).state == "rejected" and s.get(Flag, flag_id).state == "open"
        assert s.scalar(select(AuditLog).where(AuditLog.action == "dispute.reject")).actor == USERS["supervisor"]
    assert "Peers on your queue do not." in browser.get(f"/me?period={PERIOD}").get_data(as_text=True)


def test_another_agents_flag_cannot_be_disputed(browser, seeded, database):
    _fresh_flags(database, seeded)
    browser.login("agent")                      # dan
    for kind in ("truncated", "early-hangup", "survey-dodging"):      # ann's and cat's
        assert browser.post(f"/me/flags/{seeded['flags'][kind]}/dispute", {"reason": "x"}).status_code == 404
    assert browser.post("/me/flags/999999/dispute", {"reason": "x"}).status_code == 404
    with database.session() as s:
        assert not s.scalars(select(Dispute)).all()


def test_window_and_lock_close_disputes(browser, seeded, database):
    flag_id = seeded["flags"]["cap-cut"]
    with database.session() as s:
        s.get(Flag, flag_id).created_at = utcnow() - timedelta(days=8)
    browser.login("agent")
    browser.post(f"/me/flags/{flag_id}/dispute", {"reason": "late"})
    with database.session() as s:
        assert not s.scalars(select(Dispute)).all()
        s.get(Flag, flag_id).created_at = utcnow()
        from scoring.payroll.periods import lock_period
        lock_period(s, PERIOD, "hr")
    browser.post(f"/me/flags/{flag_id}/dispute", {"reason": "locked"})
    with database.session() as s:
        assert not s.scalars(select(Dispute)).all()


def test_disputes_need_the_csrf_token(browser, seeded, database):
    _fresh_flags(database, seeded)
    browser.login("agent")
    resp = browser.post(f"/me/flags/{seeded['flags']['cap-cut']}/dispute", {"reason": "x"}, csrf=False)
    assert resp.status_code == 400
    with database.session() as s:
        assert not s.scalars(select(Dispute)).all()


def test_agent_cannot_decide_disputes(browser, seeded, database):
    _fresh_flags(database, seeded)
    browser.login("agent")
    browser.post(f"/me/flags/{seeded['flags']['cap-cut']}/dispute", {"reason": "x"})
    with database.session() as s:
        d = s.scalar(select(Dispute))
    assert browser.post(f"/flags/disputes/{d.id}/decide", {"decision": "accept", "comment": "me"}).status_code == 403
    with database.session() as s:
        assert s.get(Dispute, d.id).state == "open"


def test_invitation_sets_the_password_once(app, browser, seeded, database):
    with database.session() as s:
        user = s.scalar(select(User).where(User.email == USERS["agent_ann"]))
        plain = invite(s, user, actor="admin@example.com", hours=1)
        assert s.scalar(select(Invitation)).token_hash != plain           # only the hash is stored
    fresh = Browser(app.test_client())
    assert "Set your password" in fresh.get(f"/invite/{plain}").get_data(as_text=True)
    assert fresh.post(f"/invite/{plain}", {"password": "short", "again": "short"}).status_code == 400
    resp = fresh.post(f"/invite/{plain}", {"password": "a new long password", "again": "a new long password"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert fresh.get(f"/invite/{plain}").status_code == 404                   # single use
    fresh.get("/login")
    assert fresh.post("/login", {"email": USERS["agent_ann"], "password": "a new long password"}).status_code == 302
    with database.session() as s:
        actions = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert "user.invite" in actions and "user.invite_accepted" in actions


def test_expired_invitation_is_refused(app, seeded, database):
    with database.session() as s:
        user = s.scalar(select(User).where(User.email == USERS["agent_ann"]))
        plain = invite(s, user, actor="t", hours=1)
        s.scalar(select(Invitation)).expires_at = utcnow() - timedelta(seconds=1)
    assert Browser(app.test_client()).get(f"/invite/{plain}").status_code == 404


def test_admin_links_a_user_to_an_agent_and_invites(browser, seeded, database):
    browser.login("admin")
    resp = browser.post("/admin/users", {"email": "cat@example.com", "role": "agent", "agent_id": "cat",
                                         "locale": "ru", "password": ""})
    page = resp.get_data(as_text=True)
    link = re.search(r"<code>(http[^<]+/invite/[^<]+)</code>", page)
    assert resp.status_code == 200 and link
    with database.session() as s:
        user = s.scalar(select(User).where(User.email == "cat@example.com"))
        assert (user.role, user.agent_id, user.password_hash) == ("agent", "cat", "")
    # an agent user without an agent, or a second user for the same agent, is refused
    browser.post("/admin/users", {"email": "x@example.com", "role": "agent", "agent_id": "", "password": PASSWORD})
    browser.post("/admin/users", {"email": "y@example.com", "role": "agent", "agent_id": "cat", "password": PASSWORD})
    with database.session() as s:
        assert not s.scalars(select(User).where(User.email.in_(["x@example.com", "y@example.com"]))).all()


def test_hr_lock_lists_open_disputes_and_needs_lock_anyway(browser, seeded, database, app):
    _fresh_flags(database, seeded)
    agent = Browser(app.test_client())
    agent.login("agent")
    agent.post(f"/me/flags/{seeded['flags']['cap-cut']}/dispute", {"reason": "The line dropped."})
    browser.login("hr")
    page = browser.get(f"/hr/periods/{PERIOD}/lock").get_data(as_text=True)
    assert "The line dropped." in page and "lock_anyway" in page
    browser.post(f"/hr/periods/{PERIOD}/lock", {"reason": "month end"})
    with database.session() as s:
        assert not s.scalars(select(AuditLog).where(AuditLog.action == "period.lock")).all()
    browser.post(f"/hr/periods/{PERIOD}/lock", {"reason": "payroll cannot wait", "lock_anyway": "1"})
    with database.session() as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "period.lock"))
        assert entry.detail["disputes_open"] == 1 and entry.detail["reason"] == "payroll cannot wait"
        _, rows = period_rows(s, PERIOD)
    assert next(r for r in rows if r["agent_id"] == "dan")["disputes_open"] == 1
    assert json.loads(json.dumps(rows))[0]["disputes_open"] is not None


def test_callers_words_only_with_the_setting_and_only_on_own_calls(app, browser, seeded, database):
    from dataclasses import replace
    from store.recordings import Recording
    ann_sid = "CA" + f"{2:032d}"
    with database.session() as s:
        s.add(Recording(recording_sid="RE" + "1" * 32, call_sid=seeded["cut_sid"],
                        leg_id=seeded["legs"][seeded["cut_sid"]], transcription_text="You never listened to me."))
        s.add(Recording(recording_sid="RE" + "2" * 32, call_sid=ann_sid, leg_id=seeded["legs"][ann_sid],
                        transcription_text="Ann was lovely."))
    browser.login("agent")
    assert "You never listened to me." not in browser.get(f"/me?period={PERIOD}").get_data(as_text=True)
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], agent_sees_own_words=True)
    page = browser.get(f"/me?period={PERIOD}").get_data(as_text=True)
    assert "You never listened to me." in page and "Ann was lovely." not in page


def test_an_agents_failed_logins_are_throttled_like_anyones(app, seeded):
    client = Browser(app.test_client())
    client.get("/login")
    for _ in range(5):
        assert client.post("/login", {"email": USERS["agent"], "password": "wrong password"}).status_code == 401
    assert client.post("/login", {"email": USERS["agent"], "password": PASSWORD}).status_code == 429
