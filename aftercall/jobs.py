"""Background jobs through the database outbox (``store.jobs``), executed by RQ (or in-process
when embedded).

The worker's relay moves pending rows into RQ with a deterministic RQ job id (no double
enqueue), one RQ queue per lane (``store.jobs.LANES``); it reclaims rows whose worker died
mid-run (a running job's heartbeat is written every ``STALE_AFTER``/4 by a thread beside it,
so a silent one is dead), and reconciles the outbox with Redis: a row marked queued that RQ no
longer holds (Redis restarted empty, flushed) is enqueued again. The relay runs in a process
of its own: RQ forks the worker for every job, and a fork must not copy a thread holding a lock
(a job's process hung on SQLite's mutex until RQ's timeout). With no ``REDIS_URL`` the worker
runs rows straight from the table. A row names its function by the name it was registered under
(``store.jobs.job``); this module imports every module that defines jobs, so the registry is
full wherever a job runs.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache, partial
from typing import Callable

from sqlalchemy import case, func, or_, select, update

from aftercall import logs
from aftercall.callbacks import CallbackSweeper
from aftercall.clock import Every
from aftercall.config import Settings, _int
from aftercall.followups import FollowupScheduler
from aftercall.partitions import PartitionKeeper
from aftercall.reconcile import Reconciler
from aftercall.recordings import RecordingSweeper
from scoring.outcomes import recompute  # noqa: F401  (defines jobs)
from scoring.payroll import jobs as payroll_jobs  # noqa: F401  (defines jobs)
from scoring.scorecards.rollup import missing_days, refresh
from store.base import utcnow
from store.db import Database
from store.jobs import LANES, Job, UnknownJob, job_function, job_lane, lane_names, submit

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(seconds=_int(os.environ, "JOB_STALE_SECONDS", 45))
"""A running job whose heartbeat is this old lost its worker (the heartbeat beats 4 times in it)."""
RQ_RETRY_INTERVALS = [5, 30, 120]
RECONCILE_SECONDS = 15   # how often the relay compares the queued rows with what Redis holds


@dataclass
class JobContext:
    db: Database
    job_id: int
    on_progress: Callable[[float, str], None] | None = None
    """Also told of progress: a command running a job in the foreground draws its bar."""

    def progress(self, fraction: float, note: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(fraction, note)
        with self.db.session() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(
                progress=max(0.0, min(1.0, fraction)), note=note[:240], heartbeat_at=utcnow(), updated_at=utcnow()))


def _claim(db: Database, job_id: int) -> Job | None:
    now = utcnow()
    with db.session() as s:
        claimed = s.execute(
            update(Job).where(Job.id == job_id, or_(Job.state.in_(["pending", "queued"]),
                                                    (Job.state == "running") & (Job.heartbeat_at < now - STALE_AFTER)))
            .values(state="running", attempts=Job.attempts + 1, heartbeat_at=now, updated_at=now)
        ).rowcount
        return s.get(Job, job_id) if claimed else None


class _Heartbeat:
    """While a job runs, a thread beside it writes its heartbeat, so only a dead one goes stale."""

    def __init__(self, db: Database, job_id: int):
        self.db, self.job_id, self.stop = db, job_id, threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(STALE_AFTER.total_seconds() / 4):
            try:
                with self.db.session() as s:
                    s.execute(update(Job).where(Job.id == self.job_id, Job.state == "running")
                              .values(heartbeat_at=utcnow()))
            except Exception:   # the database is away: the next beat tries again
                log.warning("job %s: writing its heartbeat failed", self.job_id, exc_info=True)

    def __enter__(self):
        self.thread.start()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run(db: Database, job_id: int, *, reraise: bool = False,
        on_progress: Callable[[float, str], None] | None = None) -> str:
    """Run one job if nobody else holds it; returns its final state for this attempt."""
    job = _claim(db, job_id)
    if job is None:
        return "skipped"
    named = logs.job_context.set(f"job-{job_id}")
    try:
        with _Heartbeat(db, job_id):
            return _run_claimed(db, job, reraise, on_progress)
    finally:
        logs.job_context.reset(named)


def _run_claimed(db: Database, job: Job, reraise: bool, on_progress) -> str:
    job_id = job.id
    try:
        fn = job_function(job.func)
    except UnknownJob as exc:   # no retry can help: fail it now, saying which name is unknown
        with db.session() as s:
            s.execute(update(Job).where(Job.id == job_id).values(state="failed", error=str(exc), updated_at=utcnow()))
        log.error("job %s failed: %s", job_id, exc)
        return "failed"
    try:
        result = fn(JobContext(db, job_id, on_progress), **job.kwargs)
    except Exception as exc:
        final = job.attempts >= job.max_attempts
        with db.session() as s:
            s.execute(update(Job).where(Job.id == job_id).values(
                state="failed" if final else ("queued" if reraise else "pending"),
                error="".join(traceback.format_exception(exc))[-4000:], updated_at=utcnow()))
        log.exception("job %s (%s) failed, attempt %s/%s", job_id, job.func, job.attempts, job.max_attempts)
        if reraise and not final:
            raise
        return "failed" if final else "retry"
    with db.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(
            state="done", progress=1.0, result=result if isinstance(result, dict) else {"value": result},
            error=None, updated_at=utcnow()))
    return "done"


@lru_cache(maxsize=1)
def _worker_db() -> Database:
    return Database(Settings.from_env().database_url)


def execute(job_id: int) -> str:
    """The RQ entry point: RQ retries it (``Retry``) when it raises."""
    return run(_worker_db(), job_id, reraise=True)


def lane_queue(default_queue, lane: str):
    """The RQ queue of a lane: the configured queue for ``default``, ``<name>-<lane>`` otherwise."""
    from rq import Queue
    if lane == "default":
        return default_queue
    return Queue(f"{default_queue.name}-{lane}", connection=default_queue.connection)


def _rq_id(job_id: int) -> str:
    return f"aftercall-job-{job_id}"


def _enqueue(rq_queue, job_id: int, func: str, *, reclaiming: bool = False) -> bool:
    """Put the job into its lane's queue unless RQ already holds it waiting (or running, unless
    we are reclaiming it from a dead worker, whose RQ job still says "started")."""
    from rq import Retry
    queue = lane_queue(rq_queue, job_lane(func))
    existing = queue.fetch_job(_rq_id(job_id))
    alive = ("queued", "scheduled", "deferred") if reclaiming else ("queued", "started", "scheduled", "deferred")
    if existing is not None and existing.get_status(refresh=True) in alive:
        return False
    if existing is not None:
        existing.delete()
    queue.enqueue("aftercall.jobs.execute", job_id, job_id=_rq_id(job_id),
                  retry=Retry(max=len(RQ_RETRY_INTERVALS), interval=RQ_RETRY_INTERVALS))
    return True


def relay_once(db: Database, rq_queue) -> int:
    """Hand pending (and abandoned running) jobs to RQ, urgent ones first (a backlog of others
    must not hold them in the outbox either); returns how many were sent."""
    now = utcnow()
    urgent_first = case((Job.func.in_(lane_names("urgent")), 0), else_=1)
    with db.session() as s:
        rows = s.execute(select(Job.id, Job.func, Job.state).where(or_(
            Job.state == "pending",
            (Job.state == "running") & (Job.heartbeat_at < now - STALE_AFTER)))
            .order_by(urgent_first, Job.id).limit(100)).all()
    sent, reclaimed = 0, []
    for job_id, func_name, state in rows:
        if not _enqueue(rq_queue, job_id, func_name, reclaiming=state == "running"):
            continue
        sent += 1
        if state == "running":
            reclaimed.append(job_id)
        with db.session() as s:
            s.execute(update(Job).where(Job.id == job_id, Job.state == "pending").values(state="queued",
                                                                                         updated_at=utcnow()))
    if reclaimed:
        log.warning("relay: reclaimed %d jobs whose worker stopped (no heartbeat for %d s): %s",
                    len(reclaimed), STALE_AFTER.total_seconds(), reclaimed)
    return sent


def reconcile_once(db: Database, rq_queue) -> int:
    """Enqueue again every queued row RQ no longer has (Redis lost its data); returns how many."""
    from rq.job import Job as RQJob
    with db.session() as s:
        rows = s.execute(select(Job.id, Job.func).where(Job.state == "queued").order_by(Job.id)).all()
    lost = []
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        held = RQJob.fetch_many([_rq_id(job_id) for job_id, _ in chunk], connection=rq_queue.connection)
        lost += [(job_id, func_name) for (job_id, func_name), rq_job in zip(chunk, held) if rq_job is None]
    for job_id, func_name in lost:
        _enqueue(rq_queue, job_id, func_name)
    if lost:
        log.warning("relay: %d queued jobs were missing from Redis (restarted empty or flushed?); enqueued them "
                    "again: %s", len(lost), [job_id for job_id, _ in lost])
    return len(lost)


def run_pending_once(db: Database) -> int:
    """Embedded mode: run every pending job in this process; returns how many ran."""
    now = utcnow()
    with db.session() as s:
        rows = s.execute(select(Job.id, Job.state).where(or_(
            Job.state.in_(["pending", "queued"]),
            (Job.state == "running") & (Job.heartbeat_at < now - STALE_AFTER))).order_by(Job.id).limit(20)).all()
    reclaimed = [job_id for job_id, state in rows if state == "running"]
    if reclaimed:
        log.warning("worker: reclaiming %d jobs whose worker stopped (no heartbeat for %d s): %s",
                    len(reclaimed), STALE_AFTER.total_seconds(), reclaimed)
    for job_id, _ in rows:
        run(db, job_id)
    return len(rows)


class SpoolReplayer:
    """Replays the spool (``ANSWER_SPOOL_DIR`` and the Redis stream) every ``ANSWER_SPOOL_REPLAY_SECONDS``.

    Web processes replay it after a request that reached the database; the worker does it on a
    clock too, so what was kept during an outage reaches the database even if no call comes in
    afterwards. It sees the folders of web processes on its own host and the stream of all.
    Kept webhooks are applied by the Flask app's views (``webhooks.outage``): ``app``, or the
    app of ``flask worker``'s context."""

    def __init__(self, settings: Settings, db: Database, app=None):
        from flask import current_app, has_app_context
        from survey.spool import AnswerSpool
        self.spool = AnswerSpool(settings.answer_spool_dir, settings.redis_url, settings.spool_stream)
        self.db, self.clock = db, Every(settings.spool_replay_seconds)
        self.app = app or (current_app._get_current_object() if has_app_context() else None)

    def tick(self) -> int:
        """Replay if the interval has passed; returns how many records were applied."""
        if not self.clock.due():
            return 0
        from webhooks.outage import apply_webhook
        try:
            stored = self.spool.replay(self.db, partial(apply_webhook, self.app) if self.app else None)
        except Exception:  # the database is still away: everything stays, the next tick retries
            log.warning("replaying the spool failed; retrying in %s s", self.clock.seconds, exc_info=True)
            return 0
        if stored:
            log.info("worker replayed %d records kept in the spool during a database outage", stored)
        return stored


ROLLUP_JOB = refresh.job_name


class RollupScheduler:
    """Every ``SCORECARD_ROLLUP_SECONDS``: when closed days are missing from the scorecard
    rollup or due a recount, and no refresh is pending or running, submit one
    (``scoring.scorecards.rollup.refresh``): about one job an hour (the days whose repeat
    window is open are recounted hourly), plus one after a day was dropped."""

    def __init__(self, settings: Settings, db: Database):
        self.db, self.clock = db, Every(settings.rollup_seconds)

    def tick(self) -> bool:
        if not self.clock.due():
            return False
        try:
            with self.db.session() as s:
                busy = s.scalar(select(func.count()).select_from(Job).where(
                    Job.func == ROLLUP_JOB, Job.state.in_(["pending", "queued", "running"])))
                if busy or not missing_days(s):
                    return False
                submit(s, refresh, created_by="worker")
            return True
        except Exception:  # the database is away: the next tick looks again
            log.warning("scheduling the scorecard rollup failed", exc_info=True)
            return False


def work(settings: Settings, db: Database, stop: threading.Event | None = None, poll: float = 1.0) -> None:
    """The worker process: RQ worker plus outbox relay with Redis, else the embedded loop;
    both replay the spool, schedule the scorecard rollup, open call-back tasks, purge recordings
    past retention, reconcile stuck calls with Twilio, create the next months' partitions of
    ``calls`` (PostgreSQL) and (``FOLLOWUPS_ENABLED``) the follow-up surveys on their clocks."""
    logs.configure()
    stop = stop or threading.Event()
    chores = (SpoolReplayer(settings, db), RollupScheduler(settings, db), CallbackSweeper(settings, db),
              RecordingSweeper(settings, db), FollowupScheduler(settings, db), Reconciler(settings, db),
              PartitionKeeper(db))
    if not settings.redis_url:
        log.info("no REDIS_URL: running jobs in-process from the database outbox")
        while not stop.is_set():
            for chore in chores:
                chore.tick()
            try:
                ran = run_pending_once(db)
            except Exception:  # the database is away: keep the worker alive, try again
                log.warning("worker: running pending jobs failed; retrying", exc_info=True)
                ran = 0
            if not ran:
                stop.wait(poll)
        return
    import multiprocessing
    from redis import Redis
    from rq import Queue, Worker
    queue = Queue(settings.rq_queue, connection=Redis.from_url(settings.redis_url))
    # RQ forks a process per job. A thread of this process inside SQLAlchemy or a database
    # driver at that moment (holding a lock: the mapper configuration mutex, SQLite's own) would
    # leave the job's process waiting on that lock until RQ's timeout, and the queue behind it.
    # So the relay and the chores run in a process of their own, forked before any thread starts.
    relay = multiprocessing.get_context("fork").Process(target=_relay, args=(settings, db, chores, poll, os.getpid()),
                                                       name="outbox-relay", daemon=True)
    relay.start()
    try:
        while not stop.is_set():
            try:   # one worker takes every lane, most urgent first
                Worker([lane_queue(queue, lane) for lane in LANES], connection=queue.connection).work(
                    with_scheduler=True)
                return
            except Exception:
                log.warning("RQ worker lost Redis; retrying in 5 s", exc_info=True)
                time.sleep(5)
    finally:
        relay.terminate()
        relay.join(5)


def _relay(settings: Settings, db: Database, chores, poll: float, parent: int) -> None:
    """The relay process: hand the outbox to RQ, reconcile it with Redis, run the chores; it
    ends with the worker that forked it."""
    from redis import Redis
    from rq import Queue
    db.engine.dispose(close=False)   # connections opened before the fork belong to the parent
    queue = Queue(settings.rq_queue, connection=Redis.from_url(settings.redis_url))
    reconcile = Every(RECONCILE_SECONDS)
    while os.getppid() == parent:
        for chore in chores:
            chore.tick()
        try:
            relay_once(db, queue)
            if reconcile.due():   # at start, then every RECONCILE_SECONDS
                reconcile_once(db, queue)
        except Exception:  # Redis (or the database) down: jobs stay pending in the database
            log.warning("relay: Redis unreachable, will retry", exc_info=True)
        time.sleep(poll)
