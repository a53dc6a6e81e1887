"""Proof on the emulator's ground truth (seeded): the composite ranks agents by their latent
quality better than raw CSAT and far better than calls per shift; gaming gets flagged and
does not pay.

One SQLite run of the demo scenario (12 agents, four gaming, a hard tech queue) cut to 1000
first contacts: about a minute, the slowest test here, because every call goes through the
real webhooks. The rankings are compared on the agents with answered surveys (raw CSAT is
undefined for the survey dodger). A seed is one draw; the spread over seeds is in the README
(`python -m bench.proof`).
"""
from __future__ import annotations

from bench.proof import prove
from emulator import load_scenario

SCENARIO = "emulator/scenarios/demo.toml"


def test_composite_tracks_true_quality(sqlite_template, tmp_path):
    result = prove(SCENARIO, seed=2025, calls=1000, workdir=tmp_path, template=sqlite_template)
    rho = result.rho
    print("spearman vs true quality:", rho)
    assert len(result.cards) == 12
    assert rho["composite"] >= 0.85
    assert rho["composite"] > rho["raw_csat"]                  # raw CSAT blames the tech team for its queue
    assert rho["composite"] > rho["composite_no_case_mix"]     # ... and case-mix adjustment is why
    assert rho["composite"] - rho["calls_per_shift"] >= 0.4

    truth = {a.id: a for a in load_scenario(SCENARIO).agents}
    gamers = {a for a, spec in truth.items() if spec.behaviour == "early_hangup"}
    assert gamers <= result.flagged["early-hangup"]           # the early hang-up agent gets the agent-level finding
    passers = {a for a, spec in truth.items() if spec.behaviour == "transfer_out"}
    assert passers and passers == result.flagged.get("transfer-out", set())   # ... and the one passing calls on hers
    dodger = next(c for c in result.cards if truth[c.agent_id].behaviour == "survey_dodger")
    assert dodger.surveys_completed < 0.2 * dodger.handled and dodger.multiplier < 1.0   # dodging never pays
    # ... and never out-earns an honest agent as good or better (pay rule 2026-12-p2; Jonas of the demo).
    peers = [c for c in result.cards if truth[c.agent_id].behaviour == "honest"
             and truth[c.agent_id].quality >= truth[dodger.agent_id].quality]
    assert peers and all(dodger.multiplier <= c.multiplier for c in peers)
