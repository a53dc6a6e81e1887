"""Proof on the emulator's ground truth (seeded): the composite ranks agents by their latent
quality far better than calls per shift; gaming gets flagged and does not pay.

One SQLite run of the demo scenario (12 agents, three gaming) cut to 1000 first contacts:
about a minute, the slowest test here, because every call goes through the real webhooks.
All three rankings are compared on the same agents: those with at least one answered
survey (raw CSAT is undefined for the survey dodger). Raw CSAT is printed, not asserted
against: see docs/scorecards.md for why it is not beaten at this sample size.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

from aftercall import jobs
from aftercall.app import create_app
from emulator import load_scenario, run
from scoring.composite import spearman
from scoring.scorecard import build_scorecards
from store.accounts import ApiToken, hash_token
from store.db import Database
from store.flags import Flag
from tests.conftest import make_settings

START = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)


def test_composite_tracks_true_quality(sqlite_template, tmp_path):
    path = tmp_path / "proof.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    scenario = dataclasses.replace(load_scenario("emulator/scenarios/demo.toml"), seed=2025, calls=1000, start=START)
    with db.session() as s:
        s.add(ApiToken(name="emulator", role="admin", token_hash=hash_token(scenario.api_token)))
    app = create_app(make_settings(db, TWILIO_AUTH_TOKEN=scenario.auth_token), db=db)
    run(scenario, app, progress=False)
    with db.session() as s:
        job = jobs.submit(s, "scoring.recompute.recompute", start=START.isoformat(),
                          end=(START + dt.timedelta(days=60)).isoformat())
    assert jobs.run(db, job.id) == "done"

    truth = {a.id: a for a in scenario.agents}
    with db.session() as s:
        cards = build_scorecards(s, START, START + dt.timedelta(days=60))
        flagged = {f.agent_id for f in s.query(Flag).filter(Flag.kind == "truncated")}
    assert len(cards) == 12
    rated = [c for c in cards if c.surveys_completed > 0]
    quality = [truth[c.agent_id].quality for c in rated]
    rho = {
        "composite": spearman([c.composite.score for c in rated], quality).rho,
        "raw_csat": spearman([c.csat.raw for c in rated], quality).rho,
        "calls_per_shift": spearman([c.calls_per_shift or 0.0 for c in rated], quality).rho,
    }
    print(f"spearman vs true quality over {len(rated)} agents:", {k: round(v, 3) for k, v in rho.items()})
    assert rho["composite"] >= 0.85
    assert rho["composite"] - rho["calls_per_shift"] >= 0.4
    gamers = {a for a, spec in truth.items() if spec.behaviour == "early_hangup"}
    assert gamers <= flagged                                   # early hang-ups flagged as truncated
    dodger = next(c for c in cards if truth[c.agent_id].behaviour == "survey_dodger")
    assert dodger.surveys_completed < 0.2 * dodger.handled and dodger.multiplier < 1.0   # dodging never pays
    db.dispose()
