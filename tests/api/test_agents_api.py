"""Agents and presence over the token-authenticated JSON API and the CLI."""
import json

import pytest

from store.accounts import ApiToken, hash_token


@pytest.fixture
def tokens(database):
    with database.session() as s:
        s.add(ApiToken(name="ops", role="admin", token_hash=hash_token("admin-token")))
        s.add(ApiToken(name="floor", role="supervisor", token_hash=hash_token("sup-token")))
        s.add(ApiToken(name="old", role="admin", token_hash=hash_token("revoked-token"), revoked=True))
    return {"admin": {"Authorization": "Bearer admin-token"}, "sup": {"Authorization": "Bearer sup-token"}}


def test_token_is_required_and_checked(app, tokens):
    c = app.test_client()
    assert c.get("/api/agents").status_code == 401
    assert c.get("/api/agents", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.get("/api/agents", headers={"Authorization": "Bearer revoked-token"}).status_code == 401
    assert c.get("/api/agents", headers=tokens["sup"]).status_code == 200
    denied = c.post("/api/agents", json={"id": "x", "skills": ["tech"]}, headers=tokens["sup"])
    assert denied.status_code == 403 and "may not" in denied.json["error"]


def test_a_tokens_last_use_is_written_once_a_minute_not_on_every_request(app, tokens, database):
    from datetime import timedelta

    from sqlalchemy import select, update

    def last_used():
        with database.session() as s:
            return s.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "floor"))

    c = app.test_client()
    assert last_used() is None
    assert c.get("/api/agents", headers=tokens["sup"]).status_code == 200
    first = last_used()
    assert first is not None
    assert c.get("/api/agents", headers=tokens["sup"]).status_code == 200
    assert last_used() == first                          # within the minute: no write, no row lock
    with database.session() as s:
        s.execute(update(ApiToken).where(ApiToken.name == "floor").values(last_used_at=first - timedelta(minutes=2)))
    assert c.get("/api/agents", headers=tokens["sup"]).status_code == 200
    assert last_used() > first - timedelta(minutes=2)   # a minute on: written again


def test_create_update_presence_and_deactivate(app, tokens):
    c = app.test_client()
    made = c.post("/api/agents", json={"id": "dana", "name": "Dana", "team": "south", "skills": ["tech", "sales"]},
                  headers=tokens["admin"])
    assert made.status_code == 201 and made.json["presence"] == "offline" and made.json["skills"] == ["sales", "tech"]
    assert c.put("/api/agents/dana/presence", json={"presence": "available"}, headers=tokens["sup"]).json["presence"] \
        == "available"
    assert c.patch("/api/agents/dana", json={"team": "east"}, headers=tokens["admin"]).json["team"] == "east"
    assert c.get("/api/agents?team=east", headers=tokens["sup"]).json["agents"][0]["id"] == "dana"
    gone = c.delete("/api/agents/dana", headers=tokens["admin"]).json
    assert (gone["active"], gone["presence"]) == (False, "offline")


@pytest.mark.parametrize("body,message", [
    ({"id": "bad id!", "skills": ["tech"]}, "id must be"),
    ({"id": "e", "skills": ["cancellations"]}, "unknown queues"),
    ({"id": "e", "skills": "tech"}, "skills must be a list"),
    ({"id": "e", "skills": ["tech"], "phone": "555"}, "E.164"),
    ({"id": "e", "skills": ["tech"], "shift": "night"}, "unknown fields"),
    ({"id": "e", "skills": ["tech"], "presence": "napping"}, "presence must be"),
])
def test_bad_agent_input_gets_a_clear_400(app, tokens, body, message):
    resp = app.test_client().post("/api/agents", json=body, headers=tokens["admin"])
    assert resp.status_code == 400 and message in resp.json["error"]


def test_presence_and_missing_agent_errors(app, tokens):
    c = app.test_client()
    assert c.put("/api/agents/ghost/presence", json={"presence": "available"}, headers=tokens["sup"]).status_code == 404
    bad = c.put("/api/agents/ghost/presence", data="available", headers=tokens["sup"])
    assert bad.status_code == 400 and "JSON object" in bad.json["error"]


def test_cli_manages_agents_and_tokens(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["agents", "add", "erin", "--team", "north", "--skills", "billing,tech",
                              "--presence", "available"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["skills"] == ["billing", "tech"]
    assert runner.invoke(args=["agents", "add", "erin", "--skills", "tech"]).exit_code != 0
    bad = runner.invoke(args=["agents", "add", "finn", "--skills", "nope"])
    assert bad.exit_code != 0 and "unknown queues" in bad.output
    out = runner.invoke(args=["agents", "set", "erin", "--presence", "offline"])
    assert json.loads(out.output)["presence"] == "offline"
    assert "erin" in runner.invoke(args=["agents", "list"]).output
    token = runner.invoke(args=["tokens", "create", "payroll", "--role", "hr"]).output.strip()
    assert token.startswith("ac_")
    assert app.test_client().get("/api/agents", headers={"Authorization": f"Bearer {token}"}).status_code == 403
