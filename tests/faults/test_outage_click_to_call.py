"""A database outage during a click-to-call: the supervisor hears the apology, and every URL of
the call (answer, the Dial's action, the caller's leg, the supervisor's status) is kept and
applied once when the database is back, leaving the attempt and task as without the outage."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select

from store.calls import WebhookEvent
from store.db import Database
from store.users import User
from tests.callbacks.conftest import team  # noqa: F401  (fixtures)
from tests.callbacks.test_calling import (answered, attempt, call_status, capp, dialer, dial_action,  # noqa: F401
                                          leg_status, rest, ring, start, task, task_state, tw)
from tests.faults.test_outage import DEAD_URL
from webhooks import outage as outage_replay


@contextmanager
def database_down(capp):
    live, dead = capp.extensions["db"], Database(DEAD_URL)
    capp.extensions["db"] = dead
    try:
        yield
    finally:
        capp.extensions["db"] = live
        dead.dispose()


def test_a_click_to_call_during_an_outage_is_kept_and_applied_once(capp, database, tw, rest, dialer, task,  # noqa: F811
                                                                    team):  # noqa: F811
    attempt_id, _ = start(database, task, team["sup"])
    assert ring(database, dialer, attempt_id) == "rang"
    with database_down(capp):
        sid, root = answered(tw, rest, attempt_id)
        assert root.find("Dial") is None and root.find("Hangup") is not None   # the apology, then goodbye
        assert "cannot be connected" in root.find("Say").text and root.find("Say").get("language") == "en-US"
        assert dial_action(tw, attempt_id, sid, "completed", 95).data.endswith(b"<Response />")   # the call ends
        assert leg_status(tw, attempt_id, sid, "completed", 97).status_code == 200
        assert call_status(tw, attempt_id, sid, "completed", 130).status_code == 200
    assert attempt(database, attempt_id)["state"] == "ringing"

    with capp.app_context():
        assert outage_replay.replay(capp) == 4
        assert outage_replay.replay(capp) == 0
    got = attempt(database, attempt_id)
    assert (got["state"], got["talk_seconds"], got["call_seconds"], got["twilio_sid"]) == ("connected", 95, 130, sid)
    assert task_state(database, task) == "called"
    again = dial_action(tw, attempt_id, sid, "completed", 95)      # Twilio's retry: the stored answer
    assert b"<Hangup" in again.data
    with database.session() as s:
        steps = sorted(s.scalars(select(WebhookEvent.step).where(WebhookEvent.step.startswith(f"c2c:{attempt_id}:"))))
    assert steps == sorted(f"c2c:{attempt_id}:{k}" for k in ("answer", "dial", "leg:completed",
                                                             "status:completed"))


def test_the_apology_during_an_outage_is_in_the_supervisors_language(capp, database, tw, rest, dialer, task,  # noqa: F811
                                                                     team):  # noqa: F811
    with database.session() as s:
        s.get(User, team["sup"]).locale = "ru"
    attempt_id, _ = start(database, task, team["sup"])
    assert ring(database, dialer, attempt_id) == "rang"
    with database_down(capp):
        _, root = answered(tw, rest, attempt_id)
    say = root.find("Say")
    assert say.text.startswith("Сейчас этот перезвон") and say.get("language") == "ru-RU"
