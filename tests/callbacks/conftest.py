"""Call-back fixtures: two teams' agents, their supervisors, and a caller who answers the survey."""
from __future__ import annotations

import zlib
from datetime import datetime, timezone

import pytest

from accounts.users import create_user
from callbacks.tasks import set_team_supervisor
from callflow.agents import create_agent
from aftercall import create_app
from tests.conftest import BASE, make_settings
from tests.voice.driver import ScriptedCall

QUEUES = {"billing", "tech", "sales", "general"}
CALL_AT = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)     # the driver's status callback time
SWEEP_AT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)    # Friday 15:00 in Moscow


TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "5" * 32, "TWILIO_FROM_NUMBER": "+15005550006", "PUBLIC_BASE_URL": BASE}
"""Twilio as the worklist needs it to offer "call back" (the REST calls go nowhere in these tests)."""


@pytest.fixture
def app(database):
    app = create_app(make_settings(database, **TWILIO), db=database)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def team(database):
    """Alice (team north, supervised by sup@) and Carol (team south, no supervisor named)."""
    with database.session() as s:
        create_agent(s, {"id": "alice", "name": "Alice", "team": "north", "skills": ["billing", "general"],
                         "presence": "available"}, QUEUES)
        create_agent(s, {"id": "carol", "name": "Carol", "team": "south", "skills": ["tech"],
                         "presence": "available"}, QUEUES)
        sup = create_user(s, "sup@example.com", "correct horse battery", "supervisor", actor="test")
        other = create_user(s, "sup2@example.com", "correct horse battery", "supervisor", actor="test")
        hr = create_user(s, "hr@example.com", "correct horse battery", "hr", actor="test")
        s.flush()
        set_team_supervisor(s, "north", sup.id, actor="test")
        return {"sup": sup.id, "sup2": other.id, "hr": hr.id}


def caller_of(sid: str) -> str:
    """A number of its own per call: one task per caller would otherwise fold the tests' calls."""
    return f"+1555{zlib.crc32(sid.encode()) % 10**7:07d}"


def surveyed(twilio, sid: str, keys: str, *, option: str = "1", caller: str | None = None) -> ScriptedCall:
    """A call answered by an agent who hung up, then the survey answered with ``keys`` (one per
    question); the final status callback comes unless the caller went back to an agent. Each
    call has its own caller unless ``caller`` is given."""
    call = ScriptedCall(twilio, sid, caller=caller or caller_of(sid))
    dial = call.to_agent(option=option)
    call.end_dial(dial, agent_hung_up=True)
    for key in keys:
        call.press(key)
    if not call.has("Enqueue"):
        call.status(at=CALL_AT)
    return call
