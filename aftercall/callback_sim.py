"""Click-to-call for the demo: a few call-back tasks called back through the real use case,
ring job logic (the ``twilio`` REST client against the emulator's stand-in) and webhooks,
with the emulator's supervisor and callers answering or not (``emulator.click_to_call``).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from accounts.users import find_user, update_user
from aftercall.callbacks import dialer as make_dialer
from aftercall.callbacks import ring_job
from aftercall.config import UNPACED, Settings
from callbacks import calling
from emulator import Target
from emulator.click_to_call import CallbackTruth, ClickToCallPlayer
from emulator.twilio_rest import FakeTwilioRest
from store.callbacks import CallbackTask
from store.db import Database

ACCOUNT = "AC" + "4" * 32
FROM = "+15005550006"
RING_TO = "client:demo-supervisor"
REST_FAULTS = {"429": 0.15, "500-after-create": 0.15}


def play_callbacks(app, db: Database, scenario, email: str, count: int = 5, *,
                   base_url: str = "http://localhost") -> list[CallbackTruth]:
    """``email`` (a supervisor) rings the callers of the first ``count`` open tasks, one call at
    a time; the last one's REST request is refused (21211), as a wrong number would be.
    Returns what each emulated person did."""
    with db.session() as s:
        user = find_user(s, email)
        if user is None:
            return []
        update_user(s, user, actor="cli:demo", ring_to=user.ring_to or RING_TO)
        user_id = user.id
        tasks = list(s.scalars(select(CallbackTask.id).where(CallbackTask.state == "open")
                               .order_by(CallbackTask.id).limit(count)))
    rest = FakeTwilioRest(ACCOUNT, scenario.auth_token, seed=scenario.seed, rates=REST_FAULTS, slow_s=3.0)
    rest.start()
    settings = Settings.from_env({"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": scenario.auth_token,
                                  "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_FROM_NUMBER": FROM,
                                  "TWILIO_API_BASE_URL": rest.url, **UNPACED, "PUBLIC_BASE_URL": base_url,
                                  "SECRET_KEY": "callback-sim"})
    dialer = make_dialer(settings)
    dialer.sender.client.http_client.timeout = 1.5
    target = Target.wsgi(app, base_url)
    player = ClickToCallPlayer(scenario, rest, target)
    try:
        for n, task_id in enumerate(tasks):
            with db.session() as s:
                attempt, _ = calling.call_back(s, task_id, user_id=user_id, actor=email, ring_job=ring_job)
            if n == len(tasks) - 1:
                rest.fail("21211")
            for _ in range(calling.MAX_TRIES):   # the job's retries, at once
                try:
                    calling.ring(db, dialer, calling.Urls(base_url), attempt.id)
                    break
                except calling.RetryLater:
                    continue
            player.play(dt.datetime.now(dt.timezone.utc))
    finally:
        target.close()
        rest.stop()
    return player.truth
