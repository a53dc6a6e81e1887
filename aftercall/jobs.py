"""Background jobs through the database outbox (``store.jobs``), executed by RQ (or in-process
when embedded).

The worker's relay moves pending rows into RQ with a deterministic RQ job id (no double
enqueue) and reclaims rows whose worker died mid-run; with no ``REDIS_URL`` the worker runs
rows straight from the table. A row names its function by the name it was registered under
(``store.jobs.job``); this module imports every module that defines jobs, so the registry is
full wherever a job runs.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache, partial
from typing import Callable

from sqlalchemy import func, or_, select, update

from aftercall.callbacks import CallbackSweeper
from aftercall.clock import Every
from aftercall.config import Settings
from aftercall.followups import FollowupScheduler
from aftercall.reconcile import Reconciler
from aftercall.recordings import RecordingSweeper
from scoring.outcomes import recompute  # noqa: F401  (defines jobs)
from scoring.payroll import jobs as payroll_jobs  # noqa: F401  (defines jobs)
from scoring.scorecards.rollup import missing_days, refresh
from store.base import utcnow
from store.db import Database
from store.jobs import Job, UnknownJob, job_function, submit

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=5)   # a running job silent this long lost its worker
RQ_RETRY_INTERVALS = [5, 30, 120]


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


def run(db: Database, job_id: int, *, reraise: bool = False,
        on_progress: Callable[[float, str], None] | None = None) -> str:
    """Run one job if nobody else holds it; returns its final state for this attempt."""
    job = _claim(db, job_id)
    if job is None:
        return "skipped"
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


def relay_once(db: Database, rq_queue) -> int:
    """Hand pending (and abandoned running) jobs to RQ; returns how many were sent."""
    from rq import Retry
    now = utcnow()
    with db.session() as s:
        ids = list(s.scalars(select(Job.id).where(or_(
            Job.state == "pending",
            (Job.state == "running") & (Job.heartbeat_at < now - STALE_AFTER))).order_by(Job.id).limit(100)))
    for job_id in ids:
        rq_id = f"aftercall-job-{job_id}"
        existing = rq_queue.fetch_job(rq_id)
        if existing is not None and existing.get_status(refresh=True) in ("queued", "started", "scheduled", "deferred"):
            continue
        if existing is not None:
            existing.delete()
        rq_queue.enqueue("aftercall.jobs.execute", job_id, job_id=rq_id,
                         retry=Retry(max=len(RQ_RETRY_INTERVALS), interval=RQ_RETRY_INTERVALS))
        with db.session() as s:
            s.execute(update(Job).where(Job.id == job_id, Job.state == "pending").values(state="queued",
                                                                                         updated_at=utcnow()))
    return len(ids)


def run_pending_once(db: Database) -> int:
    """Embedded mode: run every pending job in this process; returns how many ran."""
    now = utcnow()
    with db.session() as s:
        ids = list(s.scalars(select(Job.id).where(or_(
            Job.state.in_(["pending", "queued"]),
            (Job.state == "running") & (Job.heartbeat_at < now - STALE_AFTER))).order_by(Job.id).limit(20)))
    for job_id in ids:
        run(db, job_id)
    return len(ids)


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
    past retention, reconcile stuck calls with Twilio and (``FOLLOWUPS_ENABLED``) the follow-up
    surveys on their clocks."""
    stop = stop or threading.Event()
    chores = (SpoolReplayer(settings, db), RollupScheduler(settings, db), CallbackSweeper(settings, db),
              RecordingSweeper(settings, db), FollowupScheduler(settings, db), Reconciler(settings, db))
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
    from redis import Redis
    from rq import Queue, Worker
    redis = Redis.from_url(settings.redis_url)
    queue = Queue(settings.rq_queue, connection=redis)

    def relay_loop():
        while not stop.is_set():
            for chore in chores:
                chore.tick()
            try:
                relay_once(db, queue)
            except Exception:  # Redis (or the database) down: jobs stay pending in the database
                log.warning("relay: Redis unreachable, will retry", exc_info=True)
            stop.wait(poll)

    threading.Thread(target=relay_loop, name="outbox-relay", daemon=True).start()
    while not stop.is_set():
        try:
            Worker([queue], connection=redis).work(with_scheduler=True)
            return
        except Exception:
            log.warning("RQ worker lost Redis; retrying in 5 s", exc_info=True)
            time.sleep(5)
