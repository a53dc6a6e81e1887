"""Login, roles, CSRF and session expiry, through the Flask test client on SQLite and PostgreSQL."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from store.accounts import AuditLog
from store.flags import Flag
from store.users import User
from tests.dashboard.conftest import Browser
from tests.dashboard.seed import PASSWORD, PERIOD, USERS

PAGES = {
    "/scorecards": {"supervisor", "hr", "admin"},
    "/handle-time": {"supervisor", "hr", "admin"},
    "/agents/dan": {"supervisor", "hr", "admin"},
    "/calls": {"supervisor", "admin"},
    "/flags": {"supervisor", "admin"},
    "/callbacks": {"supervisor", "admin"},
    "/at-risk": {"supervisor", "admin"},
    "/hr/periods": {"hr", "admin"},
    "/hr/audit": {"hr", "admin"},
    "/admin/users": {"admin"},
    "/admin/agents": {"admin"},
    "/admin/tokens": {"admin"},
    "/admin/definitions": {"admin"},
    "/me": {"agent"},
}


def test_anonymous_sees_only_the_login_page(browser, seeded):
    for path in [*PAGES, f"/calls/{seeded['cut_sid']}", "/"]:
        resp = browser.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    assert browser.get("/login").status_code == 200


@pytest.mark.parametrize("role", ["supervisor", "hr", "admin", "agent"])
def test_every_page_checks_the_role(browser, role):
    browser.login(role)
    for path, allowed in PAGES.items():
        resp = browser.get(f"{path}?period={PERIOD}")
        assert resp.status_code == (200 if role in allowed else 403), (role, path, resp.status_code)


def test_wrong_password_and_disabled_user_are_refused(browser, database):
    browser.get("/login")
    resp = browser.post("/login", {"email": USERS["hr"], "password": "not the password"})
    assert resp.status_code == 401 and "Wrong e-mail or password" in resp.get_data(as_text=True)
    with database.session() as s:
        s.scalar(select(User).where(User.email == USERS["hr"])).active = False
    resp = browser.post("/login", {"email": USERS["hr"], "password": PASSWORD})
    assert resp.status_code == 401


def test_forms_without_the_csrf_token_are_rejected(browser, seeded, database):
    browser.login("supervisor")
    flag_id = seeded["flags"]["cap-cut"]
    resp = browser.post(f"/flags/{flag_id}/review", {"decision": "confirm", "comment": "x"}, csrf=False)
    assert resp.status_code == 400
    with database.session() as s:
        assert s.get(Flag, flag_id).state == "open"
    # and login itself needs the token: a cross-site form cannot log a victim in
    fresh = Browser(browser.client.application.test_client())
    resp = fresh.post("/login", {"email": USERS["admin"], "password": PASSWORD}, csrf=False)
    assert resp.status_code == 400


def test_webhooks_and_token_apis_stay_outside_login_and_csrf(twilio, app):
    resp = twilio.post("/voice/incoming", {"CallSid": "CA" + "f" * 32, "From": "+15550001111", "To": "+15550002222"})
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    assert twilio.post("/voice/incoming", {"CallSid": "CA" + "e" * 32}, sign=False).status_code == 403
    assert app.test_client().get("/api/agents").status_code == 401   # bearer token, not a login redirect


def test_supervisor_reviews_a_flag_and_the_audit_log_says_who(browser, seeded, database):
    browser.login("supervisor")
    flag_id = seeded["flags"]["truncated"]
    resp = browser.post(f"/flags/{flag_id}/review", {"decision": "dismiss", "comment": ""})
    assert resp.status_code == 302
    with database.session() as s:
        assert s.get(Flag, flag_id).state == "open"              # a comment is required
    browser.post(f"/flags/{flag_id}/review", {"decision": "dismiss", "comment": "Caller asked to end."})
    with database.session() as s:
        flag = s.get(Flag, flag_id)
        assert (flag.state, flag.reviewed_by, flag.review_comment) == ("dismissed", USERS["supervisor"],
                                                                      "Caller asked to end.")
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "flag.dismiss"))
        assert entry.actor == USERS["supervisor"] and entry.target == f"flag:{flag_id}"


def test_hr_cannot_review_and_supervisor_cannot_lock(browser, seeded, database):
    browser.login("hr")
    flag_id = seeded["flags"]["cap-cut"]
    assert browser.post(f"/flags/{flag_id}/review", {"decision": "confirm", "comment": "x"}).status_code == 403
    browser.post("/logout")
    browser.login("supervisor")
    assert browser.post(f"/hr/periods/{PERIOD}/lock").status_code == 403
    assert browser.post(f"/hr/periods/{PERIOD}/export", {"fmt": "csv"}).status_code == 403
    with database.session() as s:
        assert s.get(Flag, flag_id).state == "open"
        assert not s.scalars(select(AuditLog).where(AuditLog.action == "period.lock")).all()


def test_sessions_expire_after_the_lifetime(app, browser):
    browser.login("supervisor")
    assert browser.get("/scorecards").status_code == 200
    with browser.client.session_transaction() as sess:
        sess["login_at"] = time.time() - app.permanent_session_lifetime.total_seconds() - 1
    resp = browser.get("/scorecards")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert browser.get("/scorecards").status_code == 302          # logged out for good


def test_deactivating_a_user_ends_their_open_session(browser, database):
    browser.login("supervisor")
    with database.session() as s:
        from accounts.users import update_user
        update_user(s, s.scalar(select(User).where(User.email == USERS["supervisor"])), actor="t", active=False)
    assert browser.get("/scorecards").status_code == 302


def test_logout_ends_the_session_on_the_server(app, browser, database):
    """A copy of the cookie taken before logout (a stolen one, or another tab) opens nothing after it."""
    browser.login("supervisor")
    stolen = browser.client.get_cookie("aftercall_session").value
    assert browser.get("/calls").status_code == 200
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("aftercall_session", stolen)
    resp = thief.get("/calls")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    with database.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "user.logout")).target == USERS["supervisor"]
    browser.login("supervisor")                                   # logging in again works as before
    assert browser.get("/calls").status_code == 200


def test_a_password_change_ends_open_sessions(browser, database):
    browser.login("supervisor")
    with database.session() as s:
        from accounts.users import update_user
        update_user(s, s.scalar(select(User).where(User.email == USERS["supervisor"])), actor="t",
                    password="a brand new password")
    assert browser.get("/calls").status_code == 302


def test_session_cookie_flags(app, browser):
    browser.get("/login")
    resp = browser.post("/login", {"email": USERS["hr"], "password": PASSWORD})
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("aftercall_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600


def test_login_never_redirects_off_site(browser):
    browser.get("/login")
    resp = browser.client.post("/login?next=https://evil.example/x",
                               data={"email": USERS["hr"], "password": PASSWORD, "csrf_token": browser.token})
    assert resp.headers["Location"] in ("/scorecards", "http://localhost/scorecards")


def test_language_switch(browser):
    browser.login("supervisor")
    browser.post("/lang", {"lang": "ru", "back": "/scorecards"})
    assert "Показатели" in browser.get("/scorecards").get_data(as_text=True)
