"""Wiring the follow-up surveys: policy, Twilio REST sender, the worker's clock and jobs.

The domain (``survey.followups``) decides and records; this module gives it what it cannot
import: the settings, the REST client (``outbound.twilio_rest``) and the job outbox. The
worker's ``FollowupScheduler`` plans, expires and queues follow-ups every
``FOLLOWUP_SECONDS`` when ``FOLLOWUPS_ENABLED`` is on; each send is one job
(``aftercall.followups.send_job``) so a failure retries alone.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from aftercall.clock import Every
from aftercall.config import Settings
from ivr.menu import load_menu
from store.base import utcnow
from store.db import Database
from store.jobs import job, submit
from survey import followups
from survey.definition import Survey, load_survey
from survey.followup_policy import FollowupPolicy, load_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowupSetup:
    policy: FollowupPolicy
    survey: Survey
    urls: followups.Urls


def setup(settings: Settings) -> FollowupSetup:
    """The policy checked against the menu (queues, languages, time zone) and the survey."""
    menu = load_menu(settings.menu_file)
    survey = load_survey(settings.survey_file, set(menu.languages))
    policy = load_policy(settings.followup_file, menu.hours.tz, menu.queues, set(menu.languages),
                         followups.rated_questions(survey))
    return FollowupSetup(policy, survey, followups.Urls(settings.public_base_url))


def sender(settings: Settings) -> followups.Sender:
    from outbound.twilio_rest import TwilioSender
    return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token,
                        from_number=settings.twilio_from_number,
                        messaging_service_sid=settings.twilio_messaging_service_sid,
                        base_url=settings.twilio_api_base_url, pacer=pacer(settings))


def pacer(settings: Settings):
    """Every create paced by ``TWILIO_CALLS_PER_SECOND`` / ``TWILIO_MESSAGES_PER_SECOND``, in
    buckets every worker shares through Redis, or (embedded) this process's."""
    from outbound.pacing import Pacer
    return Pacer(_buckets(settings.redis_url), {"call": settings.calls_per_second,
                                                 "message": settings.messages_per_second},
                 settings.pace_max_wait_seconds)


@lru_cache(maxsize=4)
def _buckets(redis_url: str):
    from outbound.pacing import LocalBuckets, RedisBuckets
    if not redis_url:
        return LocalBuckets()
    from redis import Redis
    return RedisBuckets(Redis.from_url(redis_url))


def tick(db: Database, fs: FollowupSetup, now: datetime, rng=None, since: datetime | None = None) -> list[int]:
    """Plan new follow-ups, close expired ones, queue the due ones; returns the queued ids,
    each with its send job submitted in the same transaction."""
    with db.session() as s:
        followups.plan(s, fs.policy, fs.survey, now=now, rng=rng, since=since)
        followups.expire(s, now)
        queued = followups.due(s, now)
        for fid in queued:
            submit(s, send_job, followup_id=fid, max_attempts=3)
    return queued


@job("aftercall.followups.send_job", lane="urgent")
def send_job(ctx, followup_id: int, now: str | None = None) -> dict:
    """Job: send one follow-up (``survey.followups.send``): safe to run again, never sends twice."""
    settings = Settings.from_env()
    fs = setup(settings)
    at = datetime.fromisoformat(now) if now else utcnow()
    return {"outcome": followups.send(ctx.db, sender(settings), fs.policy, fs.urls, followup_id, now=at)}


@job("aftercall.followups.late_reply_job", lane="urgent")
def late_reply_job(ctx, message_sid: str, to: str, body: str) -> dict:
    """Job: the answer to the SMS ``message_sid`` kept during an outage, sent once
    (``survey.followups.send_late_reply``); submitted by ``webhooks.sms`` on replay."""
    settings = Settings.from_env()
    outcome = followups.send_late_reply(ctx.db, sender(settings), setup(settings).urls, ctx.job_id, to=to, body=body,
                                        now=utcnow())
    return {"outcome": outcome, "message_sid": message_sid}


class FollowupScheduler:
    """The worker's follow-up clock (``FOLLOWUP_SECONDS``), on when ``FOLLOWUPS_ENABLED``."""

    def __init__(self, settings: Settings, db: Database):
        self.db, self.clock = db, Every(settings.followup_seconds)
        self.setup = setup(settings) if settings.followups else None
        if self.setup is not None:
            if not settings.public_base_url:
                raise ValueError("FOLLOWUPS_ENABLED needs PUBLIC_BASE_URL: Twilio must reach the follow-up webhooks")
            sender(settings)   # the REST settings are complete, or the worker says so at start

    def tick(self) -> int:
        if self.setup is None or not self.clock.due():
            return 0
        try:
            return len(tick(self.db, self.setup, utcnow()))
        except Exception:  # the database is away: the next tick tries again
            log.warning("follow-up scheduling failed", exc_info=True)
            return 0
