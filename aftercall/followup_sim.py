"""Follow-ups on simulated time, for the demo and the proof: the app's real planner, sender
(the ``twilio`` REST client against the emulator's stand-in, ``TWILIO_API_BASE_URL``) and
webhooks, with the emulator's callers replying (``emulator.followups``).

The worker sends follow-ups on the wall clock; an emulated week of calls lies in simulated
time, so this plays them the way the worker would have: every leg decided in call order,
each follow-up sent at its own ``send_after``, its replies at the callers' own times (the
app's follow-up clock is moved with them).
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from aftercall.config import UNPACED, Settings
from aftercall.followups import sender as make_sender
from aftercall.followups import setup
from emulator import Target
from emulator.followups import FollowupPlayer, FollowupTruth
from emulator.twilio_rest import FakeTwilioRest
from store.db import Database
from store.followups import Followup
from survey import followups

ACCOUNT = "AC" + "2" * 32
FROM = "+15005550006"
REST_FAULTS = {"429": 0.03, "500": 0.01, "500-after-create": 0.01, "timeout-after-create": 0.005}
"""Default REST faults when the scenario sets none: Twilio's stand-in answers 429, 500 (also
after creating the message), or too late, now and then; each must retry without a double."""


class SimClock:
    """The app's follow-up clock on simulated time (``app.extensions["followup_clock"]``)."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def set(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def play_followups(app, db: Database, scenario, truth: list, start: dt.datetime, end: dt.datetime,
                   *, seed: int | None = None, base_url: str = "http://localhost"
                   ) -> tuple[dict[str, int], list[FollowupTruth], FakeTwilioRest]:
    """Plan, send and play every follow-up for the calls of [start, end) through ``app`` (its
    webhooks answer the emulator's callers); returns the follow-up rows per state (and
    reason), what each caller did, and the REST stand-in."""
    seed = scenario.seed if seed is None else seed
    clock = SimClock(start)
    rest = FakeTwilioRest(ACCOUNT, scenario.auth_token, seed=seed,
                          rates=scenario.followups.rest_faults or REST_FAULTS, slow_s=3.0, clock=clock)
    rest.start()
    settings = Settings.from_env({"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": scenario.auth_token,
                                  "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_FROM_NUMBER": FROM,
                                  "TWILIO_API_BASE_URL": rest.url, **UNPACED, "PUBLIC_BASE_URL": base_url,
                                  "FOLLOWUPS_ENABLED": "1", "SECRET_KEY": "followup-sim"})
    app.extensions["followup_clock"] = clock
    target = Target.wsgi(app, base_url)
    fs = setup(settings)
    sender = make_sender(settings)
    # The stand-in's slow answers take 3 s; a loaded machine must not make a normal one look
    # slow (the next attempt, a moment later in wall time, would not see the first yet).
    sender.client.http_client.timeout = 1.5
    player = FollowupPlayer(scenario, rest, target, truth, on_time=clock.set, from_number=FROM)
    rng = random.Random(f"{seed}:followup-draw")
    try:
        while True:    # every leg decided in call order, as the worker does after each call
            with db.session() as s:
                if not followups.plan(s, fs.policy, fs.survey, now=end + dt.timedelta(days=1), rng=rng,
                                      since=start - dt.timedelta(days=1)):
                    break
        while True:    # each follow-up sent at its own time, then played
            with db.session() as s:
                at = s.scalar(select(func.min(Followup.send_after)).where(Followup.state == "scheduled"))
                if at is None:
                    break
                followups.expire(s, at)
                ids = followups.due(s, at)
            clock.set(at)
            for fid in ids:
                followups.send(db, sender, fs.policy, fs.urls, fid, now=at)
            player.play(at)
        with db.session() as s:
            followups.expire(s, end + dt.timedelta(days=30))
            decisions = {f"{state}:{reason}" if reason else state: n for state, reason, n in s.execute(
                select(Followup.state, Followup.reason, func.count()).group_by(Followup.state, Followup.reason))}
    finally:
        app.extensions.pop("followup_clock", None)
        target.close()
        rest.stop()
    return decisions, player.truth, rest
