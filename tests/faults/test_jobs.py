"""Redis down and workers killed: queued work is kept in the outbox and runs exactly once.

A private redis-server is started on its own loopback port (the shared one is never
touched), and workers are real processes killed with SIGKILL.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from sqlalchemy import update

from aftercall import jobs
from store.base import utcnow
from store.jobs import Job, submit
from tests.conftest import BACKENDS, TwilioClient, make_settings
from tests.faults.jobfns import effect_once, hang_first_time, sleep_then_apply
from tests.voice.driver import ScriptedCall

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class PrivateRedis:
    def __init__(self, port: int):
        self.port, self.proc = port, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL)
        wait_for(lambda: self._ping(), what="redis-server")

    def _ping(self) -> bool:
        try:
            return Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except RedisConnectionError:
            return False

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def redis_server():
    server = PrivateRedis(free_port())
    yield server
    server.kill()


def job_state(database, job_id):
    with database.session() as s:
        job = s.get(Job, job_id)
        return job.state, job.attempts


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_redis_down_calls_still_work_and_jobs_wait_in_the_outbox(database, redis_server, tmp_path):
    from aftercall.app import create_app
    app = create_app(make_settings(database, REDIS_URL=redis_server.url), db=database)
    call = ScriptedCall(TwilioClient(app.test_client()), "CAredis")
    call.incoming()
    call.press("1")
    assert call.has("Gather")                                  # voice never waits on Redis

    with database.session() as s:
        job_id = submit(s, effect_once, workdir=str(tmp_path), name="a").id
    queue = Queue(f"faults-{os.getpid()}", connection=Redis.from_url(redis_server.url, socket_connect_timeout=0.5))
    with pytest.raises(RedisConnectionError):
        jobs.relay_once(database, queue)
    assert job_state(database, job_id) == ("pending", 0)       # kept, not lost, not marked queued

    redis_server.start()
    assert jobs.relay_once(database, queue) == 1
    assert jobs.relay_once(database, queue) == 0               # queued once: no double enqueue
    assert queue.count == 1
    env = {**os.environ, "DATABASE_URL": database.url, "PYTHONPATH": str(ROOT)}
    subprocess.run([PY, "-c", RQ_WORKER, "worker", "--burst", "--url", redis_server.url, queue.name],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    assert job_state(database, job_id) == ("done", 1)
    assert lines(tmp_path / "effects") == ["a"]


RQ_WORKER = "import tests.faults.jobfns; from rq.cli import main; main()"   # rq worker, these test jobs known

WORKER = """
import sys
import tests.faults.jobfns
from aftercall import jobs
from store.db import Database
jobs.run(Database(sys.argv[1]), int(sys.argv[2]))
"""


def test_worker_killed_mid_job_finishes_once_on_retry(database, tmp_path):
    with database.session() as s:
        job_id = submit(s, hang_first_time, workdir=str(tmp_path), name="k").id
    worker = subprocess.Popen([PY, "-c", WORKER, database.url, str(job_id)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_for(lambda: (tmp_path / "started").exists(), what="the job to start")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert job_state(database, job_id) == ("running", 1)
    assert jobs.run_pending_once(database) == 0               # a live-looking job is not stolen
    with database.session() as s:                              # … until its heartbeat is STALE_AFTER old
        s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow() - jobs.STALE_AFTER
                                                             - timedelta(seconds=1)))
    assert jobs.run_pending_once(database) == 1
    assert job_state(database, job_id) == ("done", 2)
    assert jobs.run_pending_once(database) == 0
    assert len(lines(tmp_path / "attempts")) == 2 and lines(tmp_path / "effects") == ["k"]


def test_queued_jobs_redis_lost_are_enqueued_again_once(database, redis_server, tmp_path, monkeypatch, caplog):
    """Redis restarts empty after the relay handed it jobs: the rows still say "queued", and
    the reconciliation finds what RQ no longer holds and enqueues exactly those, once."""
    monkeypatch.setattr(jobs, "_worker_db", lambda: database)
    redis_server.start()
    queue = Queue(f"faults-{os.getpid()}", connection=Redis.from_url(redis_server.url))
    with database.session() as s:
        ids = [submit(s, effect_once, workdir=str(tmp_path), name=n).id for n in "abc"]
    assert jobs.relay_once(database, queue) == 3
    assert jobs.reconcile_once(database, queue) == 0           # everything is where it should be
    redis_server.kill()
    redis_server.start()                                       # no persistence: its data is gone
    assert queue.count == 0 and [job_state(database, i) for i in ids] == [("queued", 0)] * 3
    caplog.set_level("WARNING", logger="aftercall.jobs")
    assert jobs.reconcile_once(database, queue) == 3
    assert jobs.reconcile_once(database, queue) == 0 and queue.count == 3
    assert [r.getMessage() for r in caplog.records if "missing from Redis" in r.getMessage()] == [
        f"relay: 3 queued jobs were missing from Redis (restarted empty or flushed?); enqueued them again: {ids}"]
    from rq import SimpleWorker
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert [job_state(database, i) for i in ids] == [("done", 1)] * 3
    assert sorted(lines(tmp_path / "effects")) == ["a", "b", "c"]


def test_a_live_job_keeps_its_heartbeat_and_is_not_reclaimed(database, tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.setattr(jobs, "STALE_AFTER", timedelta(seconds=1))
    with database.session() as s:
        job_id = submit(s, sleep_then_apply, workdir=str(tmp_path), name="l", seconds=3.0).id
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(jobs.run, database, job_id)
        wait_for(lambda: (tmp_path / "attempts").exists(), what="the job to start")
        time.sleep(2.5)                                        # well past STALE_AFTER since it started
        assert jobs.run_pending_once(database) == 0            # its heartbeat says it is alive
        assert running.result(timeout=30) == "done"
    assert job_state(database, job_id) == ("done", 1) and lines(tmp_path / "attempts") == [lines(tmp_path / "attempts")[0]]


WORK = """
import faulthandler, signal
faulthandler.register(signal.SIGUSR1, all_threads=True)
import tests.faults.jobfns
from aftercall import jobs
from aftercall.config import Settings
from store.db import Database
settings = Settings.from_env()
jobs.work(settings, Database(settings.database_url), poll=0.2)
"""


class RealWorker:
    """``jobs.work`` in its own process (as ``flask worker`` runs it): RQ worker, relay and chores."""

    def __init__(self, database, redis_url: str, tmp_path: Path, **env):
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database.url, "REDIS_URL": redis_url,
                    "RQ_QUEUE": f"restarts-{os.getpid()}", "ANSWER_SPOOL_DIR": str(tmp_path / "spool"), **env}
        self.log = tmp_path / "worker.log"
        self.proc = None

    def start(self):
        with self.log.open("a") as out:
            self.proc = subprocess.Popen([PY, "-c", WORK], cwd=ROOT, env=self.env, stdout=out, stderr=out,
                                         start_new_session=True)

    def dump_stacks(self):
        """Every thread's stack of the worker and its children (a hung work horse) into its log."""
        pids = [self.proc.pid] + [int(c) for task in Path(f"/proc/{self.proc.pid}/task").glob("*")
                                  for c in (task / "children").read_text().split()]
        for pid in pids:
            os.kill(pid, signal.SIGUSR1)
        time.sleep(2)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the work horse too, if it outlived its parent
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None


# One backend: the lock in question is the process's own (SQLAlchemy's, the driver's), not the
# database's, and twenty worker start-ups are the suite's slowest minutes.
@pytest.mark.parametrize("database", BACKENDS[:1], indirect=True)
def test_a_restarted_worker_with_jobs_waiting_never_hangs_20_times(database, redis_server, tmp_path):
    """The relay thread starts querying while RQ forks its first job: the fork must never take
    SQLAlchemy's mapper lock along (it hung the job until RQ's 180 s timeout)."""
    redis_server.start()
    worker = RealWorker(database, redis_server.url, tmp_path)
    try:
        for round_ in range(20):
            with database.session() as s:
                ids = [submit(s, effect_once, workdir=str(tmp_path), name=f"{round_}-{n}").id for n in range(3)]
            worker.start()
            try:
                wait_for(lambda: all(job_state(database, i)[0] == "done" for i in ids), timeout=40)
            except AssertionError:
                worker.dump_stacks()
                raise AssertionError(f"round {round_}: {[job_state(database, i) for i in ids]}; the worker's "
                                     f"log ends:\n{worker.log.read_text()[-12000:]}") from None
            worker.stop()
    finally:
        worker.stop(signal.SIGKILL)
    assert len(lines(tmp_path / "effects")) == 60 and len(set(lines(tmp_path / "effects"))) == 60


def test_a_worker_killed_mid_job_is_reclaimed_by_the_next_worker_within_seconds(database, redis_server, tmp_path,
                                                                                monkeypatch):
    """SIGKILL the worker and its work horse mid-job; a new worker sees the silent heartbeat
    (JOB_STALE_SECONDS) and runs the job again; its effect happens once."""
    redis_server.start()
    worker = RealWorker(database, redis_server.url, tmp_path, JOB_STALE_SECONDS="2")
    try:
        with database.session() as s:
            job_id = submit(s, hang_first_time, workdir=str(tmp_path), name="k").id
        worker.start()
        wait_for(lambda: (tmp_path / "started").exists(), timeout=40, what="the job to start")
        horse = int(lines(tmp_path / "attempts")[0].split()[1])   # RQ's work horse, in a group of its own
        worker.stop(signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)                             # the whole box went, not only the worker
        assert job_state(database, job_id) == ("running", 1)
        worker.start()
        wait_for(lambda: job_state(database, job_id)[0] == "done", timeout=40, what="the reclaimed job")
    finally:
        worker.stop(signal.SIGKILL)
    assert job_state(database, job_id) == ("done", 2) and lines(tmp_path / "effects") == ["k"]
    assert "reclaimed 1 jobs whose worker stopped" in worker.log.read_text()
