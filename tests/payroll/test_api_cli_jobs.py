"""The payroll JSON API (token roles, jobs, downloads) and `flask export bonus`."""
from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select

from aftercall import jobs
from scoring.payroll.jobs import build_export
from store.accounts import ApiToken, AuditLog, hash_token
from store.jobs import Job, submit
from store.payroll import ExportFile, ScorecardCache
from tests.payroll.test_periods_exports import SEP


def token(database, role: str) -> dict:
    with database.session() as s:
        s.add(ApiToken(name=f"{role}-client", role=role, token_hash=hash_token(f"tok-{role}")))
    return {"Authorization": f"Bearer tok-{role}"}


def seed(database):
    from tests.payroll.conftest import Builder
    with database.session() as s:
        b = Builder(s)
        b.agent("a", name="=cmd|' /C calc'!A0")
        b.answers("a", 18, 4, start=SEP)


def test_api_roles_lock_export_job_and_download(app, database):
    seed(database)
    client, hr, supervisor = app.test_client(), token(database, "hr"), token(database, "supervisor")
    assert client.get("/api/payroll/periods").status_code == 401
    assert client.get("/api/payroll/periods", headers=supervisor).status_code == 403
    assert client.get("/api/payroll/periods/2026-13", headers=hr).status_code == 400
    assert client.get("/api/payroll/periods/2026-09/bonus", headers=hr).status_code == 409   # not locked yet

    started = client.post("/api/payroll/periods/2026-09/lock", headers=hr)
    assert started.status_code == 202
    assert jobs.run(database, started.json["job"]["id"]) == "done"
    assert jobs.run(database, started.json["job"]["id"]) == "skipped"   # a done job does not run again

    feed = client.get("/api/payroll/periods/2026-09/bonus", headers=hr)
    assert feed.status_code == 200 and feed.json["rows"][0]["agent_id"] == "a"
    assert feed.headers["X-Checksum-SHA256"] == hashlib.sha256(feed.data).hexdigest()

    started = client.post("/api/payroll/periods/2026-09/exports", json={"format": "csv"}, headers=hr)
    job_id = started.json["job"]["id"]
    assert client.get(f"/api/payroll/jobs/{job_id}", headers=hr).json["state"] == "pending"
    jobs.run(database, job_id)
    state = client.get(f"/api/payroll/jobs/{job_id}", headers=hr).json
    assert state["state"] == "done" and state["progress"] == 1.0
    file = client.get(state["download_url"], headers=hr)
    assert file.headers["Content-Disposition"] == 'attachment; filename="bonus-2026-09.csv"'
    rows = list(csv.DictReader(io.StringIO(file.data.decode("utf-8-sig"))))
    assert rows[0]["agent_name"].startswith("'=")
    assert client.post("/api/payroll/periods/2026-09/exports", json={"format": "pdf"}, headers=hr).status_code == 400

    started = client.post("/api/payroll/periods/2026-09/recompute", headers=hr)
    jobs.run(database, started.json["job"]["id"])
    period = client.get("/api/payroll/periods/2026-09", headers=hr).json
    assert period["state"] == "locked" and period["scorecards"][0]["agent_id"] == "a"
    with database.session() as s:
        assert s.query(ScorecardCache).count() == 1
        actions = [(e.action, e.actor) for e in s.query(AuditLog).order_by(AuditLog.id)]
    assert actions == [("period.lock", "token:hr-client"), ("export.bonus", "token:hr-client"),
                       ("export.bonus", "token:hr-client")]


def test_api_exports_word_the_pay_reason_in_the_language_asked(app, database):
    seed(database)
    client, hr = app.test_client(), token(database, "hr")
    jobs.run(database, client.post("/api/payroll/periods/2026-09/lock", headers=hr).json["job"]["id"])

    english = client.get("/api/payroll/periods/2026-09/bonus", headers=hr).json["rows"][0]
    russian = client.get("/api/payroll/periods/2026-09/bonus?language=ru", headers=hr).json["rows"][0]
    assert english["pay_reason"] == russian["pay_reason"] and english["multiplier"] == russian["multiplier"]
    assert english["pay_reason_text"].isascii() and any("а" <= ch <= "я" for ch in russian["pay_reason_text"])

    started = client.post("/api/payroll/periods/2026-09/exports", json={"format": "csv", "language": "ru"},
                          headers=hr)
    jobs.run(database, started.json["job"]["id"])
    state = client.get(f"/api/payroll/jobs/{started.json['job']['id']}", headers=hr).json
    row = next(csv.DictReader(io.StringIO(client.get(state["download_url"], headers=hr).data.decode("utf-8-sig"))))
    assert row["pay_reason_text"] == russian["pay_reason_text"]

    for bad in ({"format": "csv", "language": "de"}, {"format": "csv", "language": 7}):
        refused = client.post("/api/payroll/periods/2026-09/exports", json=bad, headers=hr)
        assert refused.status_code == 400 and "language" in refused.json["error"]
    refused = client.get("/api/payroll/periods/2026-09/bonus?language=de", headers=hr)
    assert refused.status_code == 400 and "en, ru" in refused.json["error"]


def test_export_job_is_idempotent(database):
    seed(database)
    with database.session() as s:
        job = submit(s, build_export, period_key="2026-09", fmt="json", actor="hr")
    ctx = jobs.JobContext(database, job.id)
    first, second = build_export(ctx, "2026-09", "json", "hr"), build_export(ctx, "2026-09", "json", "hr")
    assert first == second
    with database.session() as s:
        assert s.query(ExportFile).count() == 1 and s.query(AuditLog).count() == 1


def test_cli_export_bonus(app, database, tmp_path):
    seed(database)
    out = tmp_path / "b.csv"
    result = app.test_cli_runner().invoke(args=["export", "bonus", "--period", "2026-09", "--format", "csv",
                                                "--output", str(out), "--actor", "hr:olga"])
    assert result.exit_code == 0, result.output
    assert f"sha256={hashlib.sha256(out.read_bytes()).hexdigest()}" in result.output
    assert list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))[0]["agent_id"] == "a"
    bad = app.test_cli_runner().invoke(args=["export", "bonus", "--period", "2026/09"])
    assert bad.exit_code != 0 and "2026-11" in bad.output
    with database.session() as s:
        assert s.query(AuditLog).one().actor == "hr:olga"


def test_an_export_row_of_the_former_dashboard_job_still_runs(database):
    seed(database)
    with database.session() as s:
        s.add(Job(func="dashboard.jobs.build_export", kwargs={"key": "2026-09", "fmt": "csv", "actor": "hr"}))
    assert jobs.run_pending_once(database) == 1
    with database.session() as s:
        job = s.scalar(select(Job))
        assert job.state == "done" and s.get(ExportFile, job.result["export_id"]).filename == "bonus-2026-09-provisional.csv"


def test_a_lock_reason_is_optional_for_the_api_and_cli_and_audited_when_given(app, database):
    seed(database)
    client, hr = app.test_client(), token(database, "hr")
    for body in ({"reason": ""}, {"reason": "  "}, {"reason": 5}, {"reason": "x" * 501}):
        assert client.post("/api/payroll/periods/2026-09/lock", json=body, headers=hr).status_code == 400, body
    refused = app.test_cli_runner().invoke(args=["export", "lock", "--period", "2026-09", "--reason", " "])
    assert refused.exit_code == 1 and "a reason for the lock is required" in refused.output
    with database.session() as s:
        assert not s.scalars(select(Job)).all()
    done = app.test_cli_runner().invoke(args=["export", "lock", "--period", "2026-09", "--reason", "September run"])
    assert done.exit_code == 0, done.output
    with database.session() as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "period.lock"))
        assert entry.detail["reason"] == "September run" and entry.actor.startswith("cli:")
