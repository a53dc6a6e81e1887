"""Applying what was kept in the spool while the database was down (``store.spool``).

A kept webhook is applied by the view that received it (``view.replay``, set by
``webhooks.replay.voice_webhook(keep=True)`` and ``webhooks.sms``) inside a request context
rebuilt from the kept path, query and parameters, with ``g.received_at`` set to when Twilio
sent it, so the same handler and domain functions run as for a live webhook, once per step.
Survey answers are applied by ``survey.spool`` itself. Used after a webhook reached the
database, by the worker on its clock, and by ``flask spool replay``/``replay-log``.
"""
from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from flask import Flask, g
from werkzeug.exceptions import HTTPException

from survey.answers import REFUSED

log = logging.getLogger(__name__)


def apply_webhook(app: Flask, rec: dict) -> str:
    """One kept webhook through its view's ``replay``; REFUSED when it names no such view."""
    try:
        path, params, args = str(rec["path"]), dict(rec["params"]), dict(rec.get("args") or {})
        endpoint, _ = app.url_map.bind("localhost").match(path, method="POST")
        received = datetime.fromisoformat(rec.get("received_at") or rec["spooled_at"])
    except (KeyError, TypeError, ValueError, HTTPException):
        log.warning("a kept webhook names no webhook of this app: %.200s", rec)
        return REFUSED
    replay = getattr(app.view_functions.get(endpoint), "replay", None)
    if replay is None:
        return REFUSED
    # A fresh app context: ``g`` is the replayed webhook's own, not the live request's.
    with app.app_context(), app.test_request_context(path, method="POST", query_string=args, data=params):
        g.received_at = received
        return replay(params, args)


# A web request replays for this long at most, then answers: Twilio waits 15 s for a webhook.
WEB_REPLAY_SECONDS = 2.0


def replay(app: Flask, *, only_if_pending: bool = False, seconds: float | None = None) -> int:
    """Apply what is kept (for ``seconds`` at most); returns how many records were applied.
    Logged once with the count."""
    spool, db = app.extensions["answer_spool"], app.extensions["db"]
    run = spool.replay_if_pending if only_if_pending else spool.replay
    applied = run(db, partial(apply_webhook, app), seconds=seconds)
    if applied:
        log.info("replayed %d records kept in the spool during a database outage", applied)
    return applied


def replay_pending(app: Flask) -> int:
    """After a webhook reached the database: what this process kept, within the request's budget."""
    return replay(app, only_if_pending=True, seconds=WEB_REPLAY_SECONDS)
