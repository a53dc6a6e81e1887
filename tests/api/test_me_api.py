"""An agent's own card over the JSON API: the token's agent only, never another's (both backends)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from store.accounts import ApiToken, hash_token
from store.base import utcnow
from store.disputes import Dispute
from store.flags import Flag
from tests.dashboard.seed import PERIOD, seed

AGENT = {"Authorization": "Bearer dan-token"}
HR = {"Authorization": "Bearer hr-token"}
ADMIN = {"Authorization": "Bearer admin-token"}


@pytest.fixture
def seeded(app, database):
    out = seed(database)
    with database.session() as s:
        s.add(ApiToken(name="dan-desk", role="agent", agent_id="dan", token_hash=hash_token("dan-token")))
        s.add(ApiToken(name="payroll", role="hr", token_hash=hash_token("hr-token")))
        s.add(ApiToken(name="ops", role="admin", token_hash=hash_token("admin-token")))
        for f in s.scalars(select(Flag)):
            f.created_at = utcnow()
    return out


def test_the_agent_gets_their_own_card_and_flags(app, seeded):
    resp = app.test_client().get(f"/api/me/scorecard?period={PERIOD}", headers=AGENT)
    assert resp.status_code == 200
    body = resp.json
    assert body["agent_id"] == "dan" and body["scorecard"]["agent_id"] == "dan"
    assert {f["agent_id"] for f in body["flags"]} == {"dan"}
    assert {f["kind"] for f in body["flags"]} == {"cap-cut", "cap-cliff"}
    assert "low" in body["scorecard"]["adequacy"] and body["outlook"] is not None
    assert not re.search(r"\+1555\d{7}", resp.get_data(as_text=True))


def test_other_tokens_and_other_agents_are_refused(app, seeded, database):
    c = app.test_client()
    assert c.get("/api/me/scorecard").status_code == 401
    assert c.get("/api/me/scorecard", headers=HR).status_code == 403
    assert c.get("/api/me/scorecard", headers=ADMIN).status_code == 403     # an admin is no agent
    assert c.get("/api/me/scorecard?agent_id=ann", headers=AGENT).json["agent_id"] == "dan"   # ignored
    assert c.get("/api/me/scorecard?period=nope", headers=AGENT).status_code == 400
    # the agent token opens no other API
    assert c.get("/api/agents", headers=AGENT).status_code == 403
    assert c.get("/api/payroll/periods", headers=AGENT).status_code == 403
    assert c.get("/api/callbacks", headers=AGENT).status_code == 403
    assert c.get(f"/api/calls/{seeded['cut_sid']}", headers=AGENT).status_code == 403
    # another agent's flags cannot be disputed
    for kind in ("truncated", "early-hangup", "survey-dodging"):
        resp = c.post(f"/api/me/flags/{seeded['flags'][kind]}/dispute", json={"reason": "x"}, headers=AGENT)
        assert resp.status_code == 404, kind
    assert c.post(f"/api/me/flags/{seeded['flags']['cap-cut']}/dispute", json={"reason": "x"},
                  headers=HR).status_code == 403
    with database.session() as s:
        assert not s.scalars(select(Dispute)).all()


def test_the_agent_disputes_through_the_api(app, seeded, database):
    c = app.test_client()
    flag = seeded["flags"]["cap-cut"]
    assert c.post(f"/api/me/flags/{flag}/dispute", json={"reason": " "}, headers=AGENT).status_code == 400
    made = c.post(f"/api/me/flags/{flag}/dispute", json={"reason": "The line dropped."}, headers=AGENT)
    assert made.status_code == 201 and made.json["state"] == "open"
    assert c.post(f"/api/me/flags/{flag}/dispute", json={"reason": "again"}, headers=AGENT).status_code == 409
    body = c.get(f"/api/me/scorecard?period={PERIOD}", headers=AGENT).json
    assert body["disputes"][0]["reason"] == "The line dropped."
    assert next(f for f in body["flags"] if f["id"] == flag)["disputable"] is False


def test_lock_with_open_disputes_needs_lock_anyway(app, seeded):
    c = app.test_client()
    c.post(f"/api/me/flags/{seeded['flags']['cap-cut']}/dispute", json={"reason": "dropped"}, headers=AGENT)
    refused = c.post(f"/api/payroll/periods/{PERIOD}/lock", json={"reason": "month end"}, headers=HR)
    assert refused.status_code == 409 and "open disputes" in refused.json["error"]
    assert c.post(f"/api/payroll/periods/{PERIOD}/lock", json={"lock_anyway": True}, headers=HR).status_code == 400
    assert c.post(f"/api/payroll/periods/{PERIOD}/lock", json={"lock_anyway": True, "reason": "payday"},
                  headers=HR).status_code == 202
