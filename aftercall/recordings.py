"""Wiring the retention of the caller's recorded words: Twilio's REST client, the job and the
worker's clock.

Every ``RECORDING_SWEEP_SECONDS`` (default an hour) the worker submits one purge job when
recordings are older than ``RECORDING_RETENTION_DAYS`` (default 30) and no purge is pending;
the job deletes each at Twilio and blanks it locally (``survey.words.purge``). A recording
Twilio would not delete stays for the next job: the job fails (and is retried) when any did.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select

from aftercall.clock import Every
from aftercall.config import Settings
from store.base import utcnow
from store.db import Database
from store.jobs import Job, job, submit
from survey import words

log = logging.getLogger(__name__)


def remover(settings: Settings) -> words.RecordingRemover:
    from outbound.twilio_rest import TwilioRecordings
    return TwilioRecordings(settings.twilio_account_sid, settings.twilio_auth_token,
                            base_url=settings.twilio_api_base_url)


def purge_expired(db: Database, rest: words.RecordingRemover, retention_days: int, now: datetime) -> dict:
    """Delete every recording past retention, a batch at a time; returns the counts."""
    totals: dict[str, int] = {}
    seen: set[int] = set()
    while True:
        with db.session() as s:
            ids = [i for i in words.expired(s, now, retention_days) if i not in seen]
        if not ids:
            return totals
        seen.update(ids)
        for key, n in words.purge(db, rest, ids, now).items():
            totals[key] = totals.get(key, 0) + n


class PurgeIncomplete(RuntimeError):
    """Some recordings could not be deleted at Twilio; the job is retried for them."""


@job("aftercall.recordings.purge_job", lane="slow")
def purge_job(ctx) -> dict:
    """Job: delete the recordings past retention at Twilio and here; safe to run again."""
    settings = Settings.from_env()
    counts = purge_expired(ctx.db, remover(settings), settings.recording_retention_days, utcnow())
    if counts.get("failed"):
        raise PurgeIncomplete(f"{counts['failed']} recordings not deleted at Twilio: {counts}")
    return counts


class RecordingSweeper:
    """The worker's retention clock (``RECORDING_SWEEP_SECONDS``)."""

    def __init__(self, settings: Settings, db: Database):
        if settings.recording_retention_days < 1:
            raise ValueError("RECORDING_RETENTION_DAYS must be at least 1")
        self.settings, self.db, self.clock = settings, db, Every(settings.recording_sweep_seconds)

    def tick(self, now: datetime | None = None) -> bool:
        """Submit a purge when one is owed and none is waiting; True when it did."""
        if not self.clock.due():
            return False
        try:
            with self.db.session() as s:
                busy = s.scalar(select(func.count()).select_from(Job).where(
                    Job.func == purge_job.job_name, Job.state.in_(["pending", "queued", "running"])))
                if busy or not words.expired(s, now or utcnow(), self.settings.recording_retention_days, limit=1):
                    return False
                submit(s, purge_job, created_by="worker", max_attempts=5)
            return True
        except Exception:  # the database is away: the next tick looks again
            log.warning("scheduling the recording purge failed", exc_info=True)
            return False
