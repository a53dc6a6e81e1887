"""Proof on the emulator's ground truth (seeded): every gaming agent gets the right agent-level
finding, no honest agent gets any, and the rules leave the composite's ranking alone.

One SQLite run of the gaming scenario (18 agents on shared queues: 10 honest, two of each
gaming behaviour the emulator knows) cut to 1,000 first contacts, through the real webhooks,
like `test_proof.py`. The spread over seeds is in the README (`python -m bench.findings_proof`).
"""
from __future__ import annotations

from bench.findings_proof import RIGHT_KIND, prove_findings

SCENARIO = "emulator/scenarios/gaming.toml"


def test_gaming_agents_get_the_right_finding_and_honest_agents_none(sqlite_template, tmp_path):
    run = prove_findings(SCENARIO, seed=2025, calls=1000, workdir=tmp_path, template=sqlite_template)
    print("findings:", run.row())
    assert len(run.gamers) == 8 and len(run.honest) == 10
    assert {b for b in run.behaviour.values()} == {"honest", *RIGHT_KIND}   # every gaming behaviour there is
    assert [a for a in run.gamers if not run.found(a)] == []
    assert run.honest_flagged() == [] and run.honest_items() == 0
    # Open findings never touch the score; confirmed ones leave the honest agents' ranking alone.
    assert run.rho_honest >= 0.8 and run.rho_honest_confirmed == run.rho_honest
