"""Wiring call-back tasks into the worker: the sweep that opens them on a clock, and the job
that rings a supervisor for "call back" (``ring_job``: ``callbacks.calling.ring`` with
Twilio's REST client from ``outbound.twilio_rest``).

Tasks are read from the stored answers (``callbacks.triggers``), not opened by the survey
webhook, so the answer's hot path stays one statement; a "no" gets its task within
``CALLBACK_SWEEP_SECONDS`` (default 60) of being stored, while the worker runs.
"""
from __future__ import annotations

import logging

from aftercall.clock import Every
from aftercall.config import Settings
from callbacks import calling, events
from callbacks.tasks import open_tasks
from ivr.menu import load_menu
from store.db import Database
from store.base import utcnow
from store.jobs import job, submit

log = logging.getLogger(__name__)
EVENT_TRIES = 5   # a receiver down for a while: the job is retried (RQ_RETRY_INTERVALS apart)


def sweep(settings: Settings, db: Database, now=None) -> int:
    """Open the tasks owed now, note those gone overdue, and (``CALLBACK_WEBHOOK_URL``) submit
    their events in the same transaction; returns how many opened. The ``flask callbacks
    sweep`` command and the worker's clock both run this."""
    schedule = load_menu(settings.menu_file).hours
    now = now or utcnow()
    with db.session() as s:
        opened = open_tasks(s, schedule, now=now, lookback_days=settings.callback_lookback_days,
                            due_hours=settings.callback_due_hours or None)
        overdue = events.went_overdue(s, now)
        if settings.callback_webhook_url:
            for event, ids in ((events.OPENED, [t.id for t in opened]), (events.OVERDUE, overdue)):
                for task_id in ids:
                    submit(s, task_event_job, created_by="worker", max_attempts=EVENT_TRIES,
                           task_id=task_id, event=event)
        return len(opened)


class CallbackSweeper:
    """The worker's call-back clock (``CALLBACK_SWEEP_SECONDS``)."""

    def __init__(self, settings: Settings, db: Database):
        self.settings, self.db, self.clock = settings, db, Every(settings.callback_sweep_seconds)

    def tick(self) -> int:
        if not self.clock.due():
            return 0
        try:
            opened = sweep(self.settings, self.db)
        except Exception:  # the database is away: the next tick looks again
            log.warning("opening call-back tasks failed", exc_info=True)
            return 0
        if opened:
            log.info("opened %d call-back tasks", opened)
        return opened


def dialer(settings: Settings) -> calling.Dialer:
    from aftercall.followups import sender
    from outbound.twilio_rest import TwilioDialer
    return TwilioDialer(sender(settings))


@job("aftercall.callbacks.ring_job", lane="urgent")
def ring_job(ctx, attempt_id: int) -> dict:
    """Job: ring the supervisor for one call-back attempt; safe to run again, never rings twice
    (a retryable failure raises ``RetryLater``, and the runner runs it again)."""
    settings = Settings.from_env()
    try:
        if not settings.public_base_url:
            raise ValueError("call-backs need PUBLIC_BASE_URL: Twilio must reach the call's webhooks")
        twilio = dialer(settings)
    except ValueError as exc:   # PUBLIC_BASE_URL or TWILIO_* settings missing: say so on the attempt, no retry
        return {"outcome": calling.not_configured(ctx.db, attempt_id, str(exc))}
    return {"outcome": calling.ring(ctx.db, twilio, calling.Urls(settings.public_base_url), attempt_id)}


@job("aftercall.callbacks.task_event_job", lane="slow")
def task_event_job(ctx, task_id: int, event: str) -> dict:
    """Job: post one task event to ``CALLBACK_WEBHOOK_URL``, signed; a receiver that is down
    or busy gets it again later (the job is retried), one that refuses it (4xx) does not."""
    from outbound.event_hook import post_event
    settings = Settings.from_env()
    if not settings.callback_webhook_url:
        return {"skipped": "CALLBACK_WEBHOOK_URL is not set"}
    with ctx.db.session() as s:
        body = events.event_body(s, task_id, event, utcnow())
    status = post_event(settings.callback_webhook_url, settings.callback_webhook_secret, body,
                        delivery=f"task-{task_id}-{event}")
    if status >= 300:
        log.error("task event %s of task %s refused by the receiver: HTTP %s", event, task_id, status)
    return {"status": status, "delivered": status < 300}
