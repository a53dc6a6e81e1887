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
from tests.conftest import TwilioClient, make_settings
from tests.faults.jobfns import effect_once, hang_first_time
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
