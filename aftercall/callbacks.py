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
from aftercall.config import Settings, capacity_of
from callbacks import calling, checks, events
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
                            due_hours=settings.callback_due_hours or None, risk=caller_risk(s, now),
                            capacity=lambda team: capacity_of(settings, team),
                            window_days=settings.callback_window_days)
        overdue = events.went_overdue(s, now)
        checks.expire(s, now)
        for check_id in checks.claim(s):
            submit(s, check_job, created_by="worker", check_id=check_id)
        if settings.callback_webhook_url:
            for event, ids in ((events.OPENED, [t.id for t in opened]), (events.OVERDUE, overdue)):
                for task_id in ids:
                    submit(s, task_event_job, created_by="worker", max_attempts=EVENT_TRIES,
                           task_id=task_id, event=event)
        return len(opened)


def caller_risk(session, now):
    """Each caller's risk points (``scoring.customers``), for ranking the tasks opened now."""
    from scoring.customers import assess
    points = {c.number: c.score for c in assess(session, now=now).callers}
    return lambda number: points.get(number, 0.0)


@job("aftercall.callbacks.check_job")
def check_job(ctx, check_id: int) -> dict:
    """Job: text one caller check ("Is your question resolved now?", after an apology when the
    team's day was full), at most once: only a check still ``sending`` is sent."""
    from store.callbacks import CallerCheck
    settings = Settings.from_env()
    with ctx.db.session() as s:
        check = s.get(CallerCheck, check_id)
        if check is None or check.state != "sending":
            return {"outcome": "nothing"}
        to, lang, kind = check.to_number, check.language, check.kind
    try:
        from aftercall.followups import sender, setup
        policy = setup(settings).policy
        if not settings.public_base_url:
            raise ValueError("caller checks need PUBLIC_BASE_URL for Twilio's status callback")
        text = policy.text(lang, "q_resolved_now")
        if kind == "capacity":
            text = f"{policy.text(lang, 'sorry')} {text}"
        sid, _ = sender(settings).send_sms(to=to, body=text, status_callback=f"{settings.public_base_url}/sms/status")
    except Exception as exc:   # not configured, or Twilio refused: said on the check, not retried
        with ctx.db.session() as s:
            checks.failed(s, check_id, str(exc))
        return {"outcome": "failed", "error": str(exc)}
    with ctx.db.session() as s:
        checks.sent(s, check_id, sid, utcnow())
    return {"outcome": "sent", "sid": sid}


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
