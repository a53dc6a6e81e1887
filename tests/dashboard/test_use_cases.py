"""Locking, flag review and tokens are one use case each: the dashboard, the JSON API and the
CLI reach it with the same checks, the same job and the same audit entry."""
from sqlalchemy import select

from accounts.tokens import create_token
from aftercall import jobs
from store.accounts import AuditLog
from store.flags import Flag
from store.jobs import Job
from store.payroll import PayPeriod
from tests.dashboard.seed import PERIODS, USERS
from tests.dashboard.test_bad_input import flashes


def _bearer(database, role: str) -> dict:
    with database.session() as s:
        return {"Authorization": "Bearer " + create_token(s, f"{role}-client", role, actor="test")[1]}


def test_dashboard_api_and_cli_lock_through_one_job_and_audit_alike(app, browser, database):
    october, november = PERIODS
    browser.login("hr")
    browser.post(f"/hr/periods/{october}/lock", {"reason": "October is final"})
    assert flashes(browser) == [f"Period {october} locked."]

    client, hr = app.test_client(), _bearer(database, "hr")
    started = client.post(f"/api/payroll/periods/{november}/lock", headers=hr, json={"reason": "payroll run"})
    assert started.status_code == 202
    assert jobs.run(database, started.json["job"]["id"]) == "done"

    again = client.post(f"/api/payroll/periods/{october}/lock", headers=hr)      # refused before any job
    assert again.status_code == 409 and again.json["error"].startswith(f"period {october} is already locked")
    cli = app.test_cli_runner().invoke(args=["export", "lock", "--period", october])
    assert cli.exit_code == 1 and f"period {october} is already locked" in cli.output
    browser.post(f"/hr/periods/{october}/lock", {"reason": "again"})
    assert flashes(browser) == [f"Period {october} is already locked."]

    with database.session() as s:
        assert [j.func for j in s.scalars(select(Job).order_by(Job.id))] == ["scoring.payroll_jobs.lock"] * 2
        entries = {e.target: e for e in s.scalars(select(AuditLog).where(AuditLog.action == "period.lock"))}
        assert all(s.get(PayPeriod, key).state == "locked" for key in PERIODS)
    assert sorted(entries) == sorted(PERIODS)
    assert (entries[october].actor, entries[november].actor) == (USERS["hr"], "token:hr-client")
    assert entries[october].detail.keys() == entries[november].detail.keys()
    assert (entries[october].detail["reason"], entries[november].detail["reason"]) == ("October is final", "payroll run")


def test_a_flag_review_is_checked_the_same_from_the_dashboard_and_the_cli(app, browser, database, seeded):
    flag_id, long_comment = seeded["flags"]["cap-cut"], "x" * 2001
    browser.login("supervisor")
    browser.post(f"/flags/{flag_id}/review", {"decision": "confirm", "comment": long_comment})
    assert flashes(browser) == ["A comment can have at most 2000 characters."]
    cli = app.test_cli_runner().invoke(args=["flags", "review", str(flag_id), "--confirm", "--comment", long_comment])
    assert cli.exit_code == 1 and "a comment can have at most 2000 characters" in cli.output
    with database.session() as s:
        assert s.get(Flag, flag_id).state == "open"
        assert not s.scalars(select(AuditLog).where(AuditLog.action.startswith("flag."))).all()
