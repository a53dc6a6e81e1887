"""``/api/callbacks`` for outside CRMs, and the call's task in ``GET /api/calls/<CallSid>``."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aftercall.callbacks import sweep
from store.accounts import ApiToken, AuditLog, hash_token
from store.base import utcnow
from store.callbacks import CallbackTask
from tests.callbacks.conftest import SWEEP_AT, surveyed
from tests.conftest import make_settings

SUP = {"Authorization": "Bearer sup-token"}
HR = {"Authorization": "Bearer hr-token"}


@pytest.fixture
def api(app, database, team, twilio):
    with database.session() as s:
        s.add(ApiToken(name="crm", role="supervisor", token_hash=hash_token("sup-token")))
        s.add(ApiToken(name="pay", role="hr", token_hash=hash_token("hr-token")))
    for n in range(4):
        surveyed(twilio, f"CA-{n}", "2")
    surveyed(twilio, "CA-s", "2", option="2")      # Carol, team south
    sweep(make_settings(database), database, now=SWEEP_AT)
    with database.session() as s:    # CA-0 … CA-3 due a day apart: CA-0, CA-1 (and CA-s) past due
        for n in range(4):
            s.execute(update(CallbackTask).where(CallbackTask.call_sid == f"CA-{n}")
                      .values(due_at=utcnow() + timedelta(days=n - 2, hours=1)))
        s.execute(update(CallbackTask).where(CallbackTask.call_sid == "CA-s")
                  .values(due_at=utcnow() - timedelta(hours=1)))
    return app.test_client()


def _ids(database) -> dict[str, int]:
    with database.session() as s:
        return {t.call_sid: t.id for t in s.scalars(select(CallbackTask))}


def test_list_puts_overdue_first_pages_and_filters(api, database, team):
    body = api.get("/api/callbacks?per_page=2", headers=SUP).json
    assert (body["total"], body["pages"], body["overdue"]) == (5, 3, 3)
    assert [t["call_sid"] for t in body["tasks"]] == ["CA-0", "CA-1"]
    assert all(t["overdue"] for t in body["tasks"])
    assert [t["call_sid"] for t in api.get("/api/callbacks?per_page=2&page=99", headers=SUP).json["tasks"]] == ["CA-3"]
    assert [t["call_sid"] for t in api.get("/api/callbacks?team=south", headers=SUP).json["tasks"]] == ["CA-s"]
    assert [t["call_sid"] for t in api.get("/api/callbacks?agent=carol", headers=SUP).json["tasks"]] == ["CA-s"]
    assert {t["call_sid"] for t in api.get(f"/api/callbacks?owner={team['sup']}", headers=SUP).json["tasks"]} \
        == {"CA-0", "CA-1", "CA-2", "CA-3"}
    assert api.get("/api/callbacks?overdue=true", headers=SUP).json["total"] == 3
    assert api.get("/api/callbacks?reason=low-rating", headers=SUP).json["total"] == 0
    ids = _ids(database)
    api.patch(f"/api/callbacks/{ids['CA-0']}", json={"state": "declined", "note": "no thanks"}, headers=SUP)
    assert api.get("/api/callbacks", headers=SUP).json["total"] == 4
    assert [t["call_sid"] for t in api.get("/api/callbacks?state=declined", headers=SUP).json["tasks"]] == ["CA-0"]
    # Finished tasks come after every task still to do.
    assert api.get("/api/callbacks?state=any", headers=SUP).json["tasks"][-1]["call_sid"] == "CA-0"


@pytest.mark.parametrize("query", ["state=done", "reason=x", "page=0", "page=-1", "per_page=101", "page=１",
                                   "overdue=yes", "owner=abc"])
def test_bad_filters_are_a_400_that_says_why(api, query):
    resp = api.get(f"/api/callbacks?{query}", headers=SUP)
    assert resp.status_code == 400 and "must be" in resp.json["error"]


def test_patch_changes_state_note_and_owner_audited_as_the_token(api, database, team):
    task_id = _ids(database)["CA-1"]
    resp = api.patch(f"/api/callbacks/{task_id}", json={"state": "called", "owner_id": team["sup2"]}, headers=SUP)
    assert resp.status_code == 200 and (resp.json["state"], resp.json["owner_id"]) == ("called", team["sup2"])
    resp = api.patch(f"/api/callbacks/{task_id}", json={"state": "resolved", "note": "sorted"}, headers=SUP)
    assert (resp.json["state"], resp.json["note"], resp.json["overdue"]) == ("resolved", "sorted", False)
    assert resp.json["closed_at"] is not None
    with database.session() as s:
        assert [(a.actor, a.action) for a in s.scalars(select(AuditLog).where(
            AuditLog.target == f"task:{task_id}", AuditLog.action != "callback.open").order_by(AuditLog.id))] == [
            ("token:crm", "callback.reassign"), ("token:crm", "callback.state"), ("token:crm", "callback.state")]


@pytest.mark.parametrize("body, status, says", [
    ({"state": "not-reached"}, 400, "cannot become"),
    ({"state": "called", "owner_id": 10**6}, 400, "not an active supervisor"),   # refused whole: state unchanged
    ({"state": "called", "note": "x" * 501}, 400, "at most 500"),
    ({"note": "just a note"}, 400, "goes with a state"),
    ({"state": 3}, 400, "strings"),
    ({"owner_id": True}, 400, "whole number"),
    ({"colour": "red"}, 400, "any of state"),
    ({}, 400, "any of state"),
])
def test_refused_patches_change_nothing(api, database, body, status, says):
    task_id = _ids(database)["CA-2"]
    before = api.get(f"/api/callbacks/{task_id}", headers=SUP).json
    resp = api.patch(f"/api/callbacks/{task_id}", json=body, headers=SUP)
    assert resp.status_code == status and says in resp.json["error"]
    assert api.get(f"/api/callbacks/{task_id}", headers=SUP).json == before


def test_unknown_tasks_tokens_and_roles(api, database):
    assert api.get("/api/callbacks/999", headers=SUP).status_code == 404
    assert api.get("/api/callbacks/abc", headers=SUP).status_code == 404
    assert api.patch("/api/callbacks/99999999999999", json={"state": "called"}, headers=SUP).status_code == 404
    assert api.get("/api/callbacks", headers=HR).status_code == 403
    assert api.get("/api/callbacks").status_code == 401


def test_the_call_record_shows_each_legs_task(api, database):
    legs = api.get("/api/calls/CA-3", headers=SUP).json["legs"]
    assert [(leg["callback_task"]["reason"], leg["callback_task"]["state"]) for leg in legs] == [
        ("adequacy-no", "open")]
    assert "caller_number" not in legs[0]["callback_task"]
