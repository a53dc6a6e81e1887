"""Cheap refusals: oversized bodies, deep JSON, out-of-range ids and unknown routes answer a
clear 4xx, JSON under /api, before any expensive work; a crash under /api is JSON too."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from aftercall.app import create_app
from store.accounts import ApiToken, hash_token
from store.jobs import Job
from tests.conftest import TwilioClient, make_settings

DEEP = b"[" * 100_000
WRITES = [("POST", "/api/agents"), ("PATCH", "/api/agents/alice"), ("PUT", "/api/agents/alice/presence"),
          ("POST", "/api/payroll/periods/2026-09/lock"), ("POST", "/api/payroll/periods/2026-09/exports"),
          ("PATCH", "/api/callbacks/1"), ("POST", "/api/callbacks/1/call")]


@pytest.fixture
def api(app, database):
    from callflow.agents import create_agent
    with database.session() as s:
        s.add(ApiToken(name="ops", role="admin", token_hash=hash_token("admin-token")))
        create_agent(s, {"id": "alice", "skills": ["billing"]}, app.config["MENU"].queues)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer admin-token"
    return client


def _json_error(resp, status):
    assert resp.status_code == status, resp.data[:300]
    assert resp.mimetype == "application/json" and isinstance(resp.json["error"], str), resp.data[:300]
    return resp


@pytest.mark.parametrize("method,path", WRITES)
def test_deeply_nested_json_is_a_json_400(api, method, path):
    _json_error(api.open(path, method=method, data=DEEP, content_type="application/json"), 400)
    nested_object = b'{"a":' * 40 + b"1" + b"}" * 40          # valid JSON, but 40 levels deep
    _json_error(api.open(path, method=method, data=nested_object, content_type="application/json"), 400)


@pytest.mark.parametrize("job_id", ["99999999999999999999", "2147483648", "-1", "0", "x"])
def test_ids_out_of_range_are_a_json_404(api, job_id):
    _json_error(api.get(f"/api/payroll/jobs/{job_id}"), 404)
    _json_error(api.get(f"/api/payroll/exports/{job_id}"), 404)


def test_routing_errors_under_api_are_json_and_pages_stay_html(api):
    _json_error(api.get("/api/nothing-here"), 404)
    wrong = _json_error(api.delete("/api/payroll/periods"), 405)
    assert "GET" in wrong.headers["Allow"]
    page = api.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_malformed_json_to_exports_and_lock_starts_nothing(api, database):
    for path in ("/api/payroll/periods/2026-09/exports", "/api/payroll/periods/2026-09/lock"):
        for body in (b'{"format": "csv"', b"format=csv", b"[1, 2]"):
            _json_error(api.post(path, data=body, content_type="application/json"), 400)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0
    assert api.post("/api/payroll/periods/2026-09/exports").status_code == 202   # no body: the default, CSV
    assert api.post("/api/payroll/periods/2026-09/exports", data=b'{"format": "xlsx"}').status_code == 202


def test_a_crash_under_api_is_a_json_500(app, api, monkeypatch):
    import webhooks.agents_api
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(webhooks.agents_api, "list_agents", lambda *a: 1 / 0)
    _json_error(api.get("/api/agents"), 500)


def test_a_body_over_the_limit_is_refused_from_its_length_before_any_parse(database, monkeypatch):
    """A 2 MB form with a bad signature is a 413 from its Content-Length: the form is never
    parsed, the signature never computed; under /api the 413 is JSON."""
    import webhooks.security
    app = create_app(make_settings(database), db=database)
    computed = []
    monkeypatch.setattr(webhooks.security.RequestValidator, "compute_signature",
                        lambda *a, **k: computed.append(1) or "x")
    big = {"CallSid": "CA1", "Junk": "x" * (2 * 1024 * 1024)}
    resp = TwilioClient(app.test_client()).post("/voice/status", big, sign=False,
                                                headers={"X-Twilio-Signature": "bad"})
    assert resp.status_code == 413 and computed == []
    _json_error(app.test_client().post("/api/agents", data=b"[" * (1024 * 1024 + 1),
                                       content_type="application/json"), 413)
    small = make_settings(database, MAX_REQUEST_BYTES="1000")
    assert small.max_request_bytes == 1000
    assert create_app(small, db=database).config["MAX_CONTENT_LENGTH"] == 1000
