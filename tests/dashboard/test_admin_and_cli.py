"""Admin pages (users, agents, tokens) and the ``flask users`` commands."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from store.accounts import ApiToken, AuditLog, hash_token
from store.agents import Agent
from store.users import User
from tests.conftest import make_settings


def test_admin_creates_a_user_who_can_log_in(browser, database):
    browser.login("admin")
    browser.get("/admin/users")
    resp = browser.post("/admin/users", {"email": "Olga@Example.com", "password": "long enough pw", "role": "hr",
                                         "locale": "ru"})
    assert resp.status_code == 302
    short = browser.post("/admin/users", {"email": "x@example.com", "password": "short", "role": "hr", "locale": "en"})
    assert short.status_code == 302
    with database.session() as s:
        user = s.scalar(select(User).where(User.email == "olga@example.com"))
        assert user.role == "hr" and user.password_hash != "long enough pw" and user.check_password("long enough pw")
        assert s.scalar(select(User).where(User.email == "x@example.com")) is None
        assert s.scalar(select(AuditLog).where(AuditLog.action == "user.create", AuditLog.target == "olga@example.com"))


def test_admin_manages_agents_and_tokens(browser, database):
    browser.login("admin")
    browser.get("/admin/agents")
    browser.post("/admin/agents", {"id": "eve", "name": "Eve", "team": "north", "skills": ["billing", "tech"]})
    bad = browser.post("/admin/agents", {"id": "bad id!", "skills": ["billing"]})
    assert bad.status_code == 302
    browser.get("/admin/tokens")
    page = browser.post("/admin/tokens", {"name": "payroll", "role": "hr"}).get_data(as_text=True)
    plain = re.search(r'id="new-token">([^<]+)<', page).group(1)
    with database.session() as s:
        assert s.get(Agent, "eve").skills == ["billing", "tech"]
        assert s.get(Agent, "bad id!") is None
        token = s.scalar(select(ApiToken).where(ApiToken.name == "payroll"))
        assert token.token_hash == hash_token(plain) and token.role == "hr"
        token_id = token.id
    browser.post(f"/admin/tokens/{token_id}/revoke")
    with database.session() as s:
        assert s.get(ApiToken, token_id).revoked


def test_an_agents_employee_number_is_edited_where_agents_are_managed(app, browser, database):
    browser.login("admin")
    browser.get("/admin/agents")
    browser.post("/admin/agents", {"id": "eve", "name": "Eve", "skills": ["billing"], "employee_number": " T-0042 "})
    browser.post("/admin/agents/ann", {"name": "Ann", "skills": ["billing"], "employee_number": "x" * 33})
    assert 'value="T-0042"' in browser.get("/admin/agents").get_data(as_text=True)
    with database.session() as s:
        assert s.get(Agent, "eve").employee_number == "T-0042"
        assert s.get(Agent, "ann").employee_number == ""                # too long: refused, nothing saved
    result = app.test_cli_runner().invoke(args=["agents", "set", "ann", "--employee-number", "A-1"])
    assert result.exit_code == 0 and '"employee_number": "A-1"' in result.output


def test_cli_creates_the_first_admin(app, database):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "Boss@Example.com", "--password-stdin"],
                           input="a fine long password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "sup@example.com", "--role", "supervisor"],
                           input="another long pw\nanother long pw\n")
    assert result.exit_code == 0, result.output
    dup = runner.invoke(args=["users", "create-admin", "boss@example.com", "--password-stdin"], input="whatever long\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    short = runner.invoke(args=["users", "create-admin", "x@example.com", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    with database.session() as s:
        users = {u.email: u for u in s.scalars(select(User))}
    assert users["boss@example.com"].role == "admin" and users["boss@example.com"].check_password("a fine long password")
    assert users["sup@example.com"].role == "supervisor"
    assert "x@example.com" not in users


def test_session_lifetime_is_configurable(database, monkeypatch):
    from aftercall.app import create_app
    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "2")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    app = create_app(make_settings(database), db=database)
    assert app.permanent_session_lifetime.total_seconds() == 7200 and app.config["SESSION_COOKIE_SECURE"]
    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "soon")

    with pytest.raises(ValueError, match="SESSION_LIFETIME_HOURS"):
        create_app(make_settings(database), db=database)


def test_cli_tokens_are_checked_and_audit_logged_like_the_admin_page(app, database):
    runner = app.test_cli_runner()
    nameless = runner.invoke(args=["tokens", "create", "   ", "--role", "hr"])
    assert nameless.exit_code == 1 and "A token needs a name of 1 to 120 characters." in nameless.output
    made = runner.invoke(args=["tokens", "create", "payroll", "--role", "hr"])
    assert made.exit_code == 0, made.output
    with database.session() as s:
        token = s.scalar(select(ApiToken))
        assert (token.name, token.role, token.token_hash) == ("payroll", "hr", hash_token(made.output.strip()))
        token_id = token.id
    assert runner.invoke(args=["tokens", "revoke", str(token_id)]).output == f"token {token_id} revoked\n"
    with database.session() as s:
        assert s.get(ApiToken, token_id).revoked
        entries = [(e.actor, e.action, e.target) for e in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert entries == [("cli", "token.create", f"token:{token_id}"), ("cli", "token.revoke", f"token:{token_id}")]
