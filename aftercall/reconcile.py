"""Reconciling with Twilio: the worker's clock that settles calls left open by webhooks that
never reached us (``callflow.reconcile``), so no agent stays busy after an outage.

Every ``RECONCILE_SECONDS`` (default 300) the worker asks Twilio's REST API about each call
with something open for longer than ``RECONCILE_AFTER_MINUTES`` (default 240: ``<Dial>``'s
``timeLimit`` default of 4 hours) and settles it from the answer; one log line with the counts.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aftercall.clock import Every
from aftercall.config import Settings
from callflow import reconcile
from store.base import utcnow
from store.db import Database

log = logging.getLogger(__name__)


def lookup(settings: Settings) -> reconcile.CallLookup:
    from outbound.twilio_rest import TwilioCalls
    return TwilioCalls(settings.twilio_account_sid, settings.twilio_auth_token, base_url=settings.twilio_api_base_url)


def run(db: Database, twilio: reconcile.CallLookup, now: datetime, older_than: timedelta) -> dict[str, int]:
    """One pass; returns the counts (``closed``, ``legs-ended``, ``live``, ``unreachable``, ``agents-freed``)."""
    counts = {"closed": 0, "legs-ended": 0, "live": 0, "unreachable": 0, "agents-freed": 0}
    with db.session() as s:
        sids = reconcile.stuck(s, now, older_than)
    for sid in sids:
        try:
            state = twilio.call_state(sid)
        except Exception as exc:   # Twilio unreachable or refusing: the next pass asks again
            log.warning("reconcile: Twilio did not answer for %s (%s)", sid, exc)
            counts["unreachable"] += 1
            continue
        with db.session() as s:
            counts[reconcile.settle(s, sid, state, now, older_than)] += 1
    with db.session() as s:
        counts["agents-freed"] = reconcile.free_idle_busy(s, now, older_than)
    if sids or counts["agents-freed"]:
        log.info("reconciled %d stuck calls with Twilio: %s", len(sids), counts)
    return counts


class Reconciler:
    """The worker's reconciliation clock; off without Twilio credentials (nothing to ask)."""

    def __init__(self, settings: Settings, db: Database):
        self.settings, self.db, self.clock = settings, db, Every(settings.reconcile_seconds)
        self.older_than = timedelta(minutes=settings.reconcile_after_minutes)

    def tick(self, now: datetime | None = None) -> dict[str, int] | None:
        if not self.settings.twilio_account_sid or not self.clock.due():
            return None
        try:
            return run(self.db, lookup(self.settings), now or utcnow(), self.older_than)
        except Exception:  # the database is away: the next tick tries again
            log.warning("reconciling with Twilio failed", exc_info=True)
            return None
