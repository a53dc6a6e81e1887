"""The job outbox: embedded execution, retries, and hand-off to RQ on a real Redis."""
import uuid

import pytest
from sqlalchemy import func, select
from redis import Redis
from rq import Queue, SimpleWorker

from aftercall import jobs
from store.jobs import Job, job, submit
from tests.conftest import REDIS_URL

CALLS: list = []


@job("tests.test_jobs.record")
def record(ctx, value, fail_times=0):
    """A job for the tests: fails ``fail_times`` attempts, then records its value."""
    with ctx.db.session() as s:
        attempts = s.get(Job, ctx.job_id).attempts
    ctx.progress(0.5, "halfway")
    if attempts <= fail_times:
        raise RuntimeError(f"attempt {attempts} fails")
    CALLS.append(value)
    return {"value": value}


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()


def _submit(database, **kwargs) -> int:
    with database.session() as s:
        return submit(s, record, **kwargs).id


def test_embedded_worker_runs_jobs_once_and_retries_failures(database):
    job_id = _submit(database, value=7, fail_times=1)
    assert jobs.run_pending_once(database) == 1       # attempt 1 fails → back to pending
    with database.session() as s:
        assert s.get(Job, job_id).state == "pending" and "attempt 1 fails" in s.get(Job, job_id).error
    assert jobs.run_pending_once(database) == 1
    assert jobs.run_pending_once(database) == 0
    with database.session() as s:
        job = s.get(Job, job_id)
        assert (job.state, job.attempts, job.progress, job.result) == ("done", 2, 1.0, {"value": 7})
    assert CALLS == [7]


def test_job_that_keeps_failing_ends_failed(database):
    job_id = _submit(database, value=1, fail_times=99)
    for _ in range(5):
        jobs.run_pending_once(database)
    with database.session() as s:
        assert (s.get(Job, job_id).state, s.get(Job, job_id).attempts) == ("failed", 3)
    assert CALLS == []


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_relay_hands_jobs_to_rq_once(database, monkeypatch):
    """Production mode: PostgreSQL outbox, RQ on a real Redis."""
    redis = Redis.from_url(REDIS_URL)
    queue = Queue(f"aftercall-test-{uuid.uuid4().hex[:8]}", connection=redis)
    monkeypatch.setattr(jobs, "_worker_db", lambda: database)
    try:
        job_id = _submit(database, value=3)
        assert jobs.relay_once(database, queue) == 1
        assert jobs.relay_once(database, queue) == 0   # queued already: not sent twice
        with database.session() as s:
            assert s.get(Job, job_id).state == "queued"
        SimpleWorker([queue], connection=redis).work(burst=True)
        with database.session() as s:
            assert s.get(Job, job_id).state == "done"
        assert CALLS == [3]
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)


def test_a_job_with_an_unknown_name_fails_at_once_saying_so(database):
    """A stored name is looked up in the registry only: never imported as a dotted path."""
    with database.session() as s:
        s.add(Job(func="os.system", kwargs={"command": "true"}))
    assert jobs.run_pending_once(database) == 1
    assert jobs.run_pending_once(database) == 0                      # not retried: no retry can help
    with database.session() as s:
        job = s.scalar(select(Job))
        assert (job.state, job.attempts) == ("failed", 1)
        assert job.error.startswith("no job function is registered as 'os.system'")


def test_only_a_registered_function_can_be_submitted(database):
    with database.session() as s, pytest.raises(ValueError, match="is not a registered job"):
        submit(s, lambda ctx: None)
    with pytest.raises(ValueError, match="already taken"):
        job("tests.test_jobs.record")(lambda ctx: None)


def test_a_slow_lane_backlog_never_delays_an_urgent_job(database, monkeypatch, tmp_path):
    """200 posts to a slow CRM are waiting when a follow-up send is submitted: the worker takes
    the follow-up next, whatever was queued before it."""
    from tests.faults.jobfns import slow_hook, urgent_send
    redis = Redis.from_url(REDIS_URL)
    queue = Queue(f"aftercall-test-{uuid.uuid4().hex[:8]}", connection=redis)
    lanes = [jobs.lane_queue(queue, lane) for lane in ("urgent", "default", "slow")]
    monkeypatch.setattr(jobs, "_worker_db", lambda: database)
    try:
        with database.session() as s:
            for n in range(200):
                submit(s, slow_hook, workdir=str(tmp_path), name=f"crm-{n}")
        assert jobs.relay_once(database, queue) == 100             # a relay pass takes 100 rows
        with database.session() as s:
            submit(s, urgent_send, workdir=str(tmp_path), name="follow-up")
        assert jobs.relay_once(database, queue) == 100
        assert [q.count for q in lanes] == [1, 0, 199]
        SimpleWorker(lanes, connection=redis).work(burst=True, max_jobs=2)
        assert (tmp_path / "order").read_text().splitlines() == ["follow-up", "crm-0"]
    finally:
        for q in lanes:
            q.delete(delete_jobs=True)


def test_duplicate_recompute_requests_coalesce_while_one_waits(database):
    from scoring.payroll.actions import start_recompute
    with database.session() as s:
        first = start_recompute(s, "2026-09", "token:a").id
        assert {start_recompute(s, "2026-09", "token:b").id for _ in range(31)} == {first}
        other = start_recompute(s, "2026-10", "token:a").id        # another scope is its own job
    assert other != first
    with database.session() as s:
        s.get(Job, first).state = "running"                          # started: data may have changed since
    with database.session() as s:
        again = start_recompute(s, "2026-09", "token:a").id
        assert again not in (first, other)
        assert s.scalar(select(func.count()).select_from(Job)) == 3
