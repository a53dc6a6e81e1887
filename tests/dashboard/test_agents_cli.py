"""The command line for agents and disputes: the same use cases as the pages (both backends)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from store.accounts import AuditLog
from store.agents import Agent
from store.base import utcnow
from store.disputes import Dispute
from store.flags import Flag
from store.users import User


def test_invite_link_dispute_and_decision_from_the_cli(app, seeded, database):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["users", "create", "cat@example.com", "--role", "agent", "--agent", "cat", "--invite"])
    assert made.exit_code == 0 and "/invite/" in made.output, made.output
    refused = runner.invoke(args=["users", "create", "x@example.com", "--role", "agent", "--invite"])
    assert refused.exit_code == 1 and "needs the agent" in refused.output
    token = runner.invoke(args=["tokens", "create", "desk", "--role", "agent", "--agent", "cat"])
    assert token.exit_code == 0 and token.output.startswith("ac_")
    flag = seeded["flags"]["survey-dodging"]           # cat's
    with database.session() as s:
        s.get(Flag, flag).created_at = utcnow()
    other = runner.invoke(args=["disputes", "open", str(flag), "--agent", "dan", "--reason", "not mine"])
    assert other.exit_code == 1
    opened = runner.invoke(args=["disputes", "open", str(flag), "--agent", "cat",
                                 "--reason", "My queue is short calls."])
    assert opened.exit_code == 0, opened.output
    dispute = json.loads(opened.output)["id"]
    listed = runner.invoke(args=["disputes", "list"])
    assert json.loads(listed.output.splitlines()[0])["reason"] == "My queue is short calls."
    assert runner.invoke(args=["disputes", "decide", str(dispute), "--accept", "--comment", " "]).exit_code == 1
    done = runner.invoke(args=["disputes", "decide", str(dispute), "--accept", "--comment", "Agreed."])
    assert done.exit_code == 0 and json.loads(done.output)["state"] == "accepted"
    with database.session() as s:
        assert s.get(Flag, flag).state == "dismissed"
        assert {"dispute.open", "dispute.accept", "flag.dismiss", "user.invite"} <= set(
            s.scalars(select(AuditLog.action)))


def test_demo_agents_make_logins_and_a_waiting_dispute(app, database):
    with database.session() as s:
        s.add_all([Agent(id="farid", name="Farid Haddad", team="north"), Agent(id="anna", name="Anna", team="north")])
        s.flush()
        s.add(Flag(key="cap-cut:leg:x", kind="cap-cut", agent_id="farid", occurred_at=datetime.now(timezone.utc),
                   reason="agent ended the call at 775 s", evidence={"talk_seconds": 775, "cap_seconds": 780},
                   rule_version="r"))
    runner = app.test_cli_runner()
    for _ in range(2):    # a second start changes nothing
        result = runner.invoke(args=["demo-agents", "--password-stdin"], input="aftercall-demo\n")
        assert result.exit_code == 0, result.output
    with database.session() as s:
        users = {u.email: u.agent_id for u in s.scalars(select(User))}
        assert users == {"farid@demo.local": "farid", "anna@demo.local": "anna"}
        assert [(d.agent_id, d.state) for d in s.scalars(select(Dispute))] == [("farid", "open")]
