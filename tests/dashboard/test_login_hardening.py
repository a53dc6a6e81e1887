"""Login throttling (per account, per address; memory and Redis storage), the login audit trail,
and the response headers of pages, webhooks and APIs."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from aftercall.app import create_app
from store.accounts import AuditLog
from tests.conftest import REDIS_URL, make_settings
from tests.dashboard.conftest import Browser
from tests.dashboard.seed import PASSWORD, USERS


def _fail(browser, email, address="10.0.0.1"):
    return browser.post("/login", {"email": email, "password": "wrong password"},
                        environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_throttled_per_account_with_a_translated_429(browser, database):
    browser.post("/lang", {"lang": "ru", "back": "/"})
    for _ in range(5):
        assert _fail(browser, USERS["hr"]).status_code == 401
    resp = browser.post("/login", {"email": USERS["hr"].upper(), "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.0.2"})     # the right password, another address
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    assert "Слишком много неудачных попыток входа" in resp.get_data(as_text=True)
    ok = browser.post("/login", {"email": USERS["supervisor"], "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.0.0.1"})        # another account from the same address
    assert ok.status_code == 302


def test_failed_logins_are_throttled_per_address(database, monkeypatch):
    monkeypatch.setenv("LOGIN_LIMIT_ADDRESS", "3 per hour")
    app = create_app(make_settings(database), db=database)
    from tests.dashboard.seed import seed
    seed(database)
    browser = Browser(app.test_client())
    for n in range(3):
        assert _fail(browser, f"nobody{n}@example.com").status_code == 401
    assert _fail(browser, "someone-else@example.com").status_code == 429
    assert _fail(browser, "someone-else@example.com", address="10.9.9.9").status_code == 401
    good = browser.post("/login", {"email": USERS["hr"], "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert good.status_code == 429                      # the address is blocked, whoever it claims to be


def test_logins_are_in_the_audit_log(browser, database):
    _fail(browser, USERS["hr"], address="10.1.2.3")
    _fail(browser, "ghost@example.com", address="10.1.2.4")
    browser.login("hr")
    with database.session() as s:
        rows = [(r.actor, r.action, r.target, r.detail) for r in s.scalars(
            select(AuditLog).where(AuditLog.action.like("user.login%")).order_by(AuditLog.id))]
    assert rows == [
        ("anonymous", "user.login_failed", USERS["hr"], {"address": "10.1.2.3", "reason": "password"}),
        ("anonymous", "user.login_failed", "ghost@example.com", {"address": "10.1.2.4", "reason": "unknown"}),
        (USERS["hr"], "user.login", USERS["hr"], {}),
    ]


def test_the_throttle_is_shared_through_redis(database):
    """Two web workers (two apps) with REDIS_URL count one account's failures together."""
    from tests.dashboard.seed import seed
    seed(database)
    settings = make_settings(database, REDIS_URL=REDIS_URL)
    first, second = (Browser(create_app(settings, db=database).test_client()) for _ in range(2))
    assert first.client.application.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    email = f"{uuid.uuid4().hex}@example.com"          # a fresh counter in the shared Redis
    for browser in (first, second, first, second, first):
        assert _fail(browser, email, address=f"10.2.{uuid.uuid4().int % 250}.1").status_code == 401
    assert _fail(second, email, address="10.3.3.3").status_code == 429


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_pages_carry_the_security_headers(browser, scheme):
    resp = browser.client.get("/login", base_url=f"{scheme}://localhost")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert ("Strict-Transport-Security" in resp.headers) == (scheme == "https")
    assert "<script>" not in resp.get_data(as_text=True) and " onclick=" not in resp.get_data(as_text=True)


def test_webhooks_and_apis_keep_their_answers(twilio, app):
    resp = twilio.post("/voice/incoming", {"CallSid": "CA" + "1" * 32, "From": "+15550001111", "To": "+15550002222",
                                           "CallStatus": "ringing"})
    assert resp.status_code == 200 and resp.mimetype == "text/xml" and "<Response>" in resp.get_data(as_text=True)
    assert "Content-Security-Policy" not in resp.headers and resp.headers["X-Content-Type-Options"] == "nosniff"
    api = app.test_client().get("/api/openapi.json")
    assert api.status_code == 200 and api.is_json and "Content-Security-Policy" not in api.headers


def test_the_limiter_hooks_run_for_the_login_only(app):
    """Flask-Limiter's request hooks are the login blueprint's (the throttle tests above show they
    still work there): a Twilio webhook never runs them."""
    def limiter_hooks(registry, key):
        return [f for f in registry.get(key, ()) if getattr(getattr(f, "func", f), "__module__", "")
                .startswith("flask_limiter")]
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        assert not limiter_hooks(registry, None) and limiter_hooks(registry, "auth")


def _closed_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_login_works_and_is_still_throttled_while_redis_is_down(database, caplog):
    """Redis away (a closed port): the counters fall back to this process's memory, loudly."""
    from tests.dashboard.seed import seed
    seed(database)
    settings = make_settings(database, REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0")
    browser = Browser(create_app(settings, db=database).test_client())
    browser.get("/login")
    good = browser.post("/login", {"email": USERS["supervisor"], "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.4.4.4"})
    assert good.status_code == 302
    assert any(r.levelname == "ERROR" and "Redis" in r.getMessage() for r in caplog.records)
    browser.post("/logout")
    browser.get("/login")
    for _ in range(5):
        assert _fail(browser, USERS["hr"]).status_code == 401
    assert browser.post("/login", {"email": USERS["hr"], "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 429
