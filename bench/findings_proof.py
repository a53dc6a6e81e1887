"""The gaming-findings proof over many seeds: does each gaming agent get the right agent-level
finding, and do honest agents stay out of the review queue?

Each seed runs a scenario through the real webhooks (in-process, SQLite, `bench.proof`),
recomputes flags, and compares the current agent-level findings with the emulator's truth:
an `early_hangup` agent must get `early-hangup`, a `cap_cutter` `cap-cliff`, a
`survey_dodger` `survey-dodging`, a `transfer_out` `transfer-out`; an honest agent should
get nothing. It then confirms every finding (as a supervisor would, through
`scoring.outcomes.review.review_flag`) and ranks again: the composite's rank correlation with
true quality, before and after the penalties.

    python -m bench.findings_proof --scenario emulator/scenarios/gaming.toml --seeds 1-6 --calls 1500
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from sqlalchemy import select
from tqdm import tqdm

from bench.proof import _seeds, evaluate, scratch_database, simulate
from scoring.stats.composite import spearman
from scoring.outcomes.review import review_flag
from store.flags import Flag

RIGHT_KIND = {"early_hangup": "early-hangup", "cap_cutter": "cap-cliff", "survey_dodger": "survey-dodging",
              "transfer_out": "transfer-out"}


@dataclasses.dataclass
class FindingsRun:
    seed: int
    behaviour: dict[str, str]              # agent -> emulator behaviour
    findings: dict[str, list[str]]         # agent -> kinds of its current agent-level findings
    months: int                            # periods the findings cover
    rho: float                             # composite vs true quality, nothing confirmed (as today)
    rho_confirmed: float                   # ... with every finding confirmed
    rho_honest: float                      # the same over the honest agents only
    rho_honest_confirmed: float

    @property
    def gamers(self) -> list[str]:
        return sorted(a for a, b in self.behaviour.items() if b != "honest")

    @property
    def honest(self) -> list[str]:
        return sorted(a for a, b in self.behaviour.items() if b == "honest")

    def found(self, agent: str) -> bool:
        return RIGHT_KIND[self.behaviour[agent]] in self.findings.get(agent, [])

    def honest_flagged(self) -> list[str]:
        return [a for a in self.honest if self.findings.get(a)]

    def honest_items(self) -> int:
        return sum(len(self.findings.get(a, [])) for a in self.honest)

    def row(self) -> dict:
        return {"seed": self.seed, "gamers_found": f"{sum(map(self.found, self.gamers))}/{len(self.gamers)}",
                "missed": [a for a in self.gamers if not self.found(a)],
                "honest_flagged": self.honest_flagged(), "honest_items": self.honest_items(),
                "findings": self.findings, "rho": self.rho, "rho_confirmed": self.rho_confirmed,
                "rho_honest": self.rho_honest, "rho_honest_confirmed": self.rho_honest_confirmed}


def prove_findings(scenario_path: str, seed: int, calls: int, workdir: Path, template: Path | None = None) -> FindingsRun:
    """One seed end to end in a fresh SQLite file under `workdir` (copied from `template` if given)."""
    db = scratch_database(workdir / f"findings-{seed}.db", template)
    try:
        scenario = simulate(db, scenario_path, seed, calls)
        before = evaluate(db, scenario, seed)
        findings: dict[str, list[str]] = {}
        with db.session() as s:
            rows = s.scalars(select(Flag).where(Flag.leg_id.is_(None), Flag.current.is_(True))).all()
            for f in rows:
                findings.setdefault(f.agent_id, []).append(f.kind)
                review_flag(s, f.id, "proof", "confirm", "confirmed by the findings proof")
            months = len({f.occurred_at for f in rows}) or 1
        after = evaluate(db, scenario, seed)
        behaviour = {a.id: a.behaviour for a in scenario.agents}
        return FindingsRun(seed, behaviour, {a: sorted(k) for a, k in findings.items()}, months,
                           before.rho["composite"], after.rho["composite"],
                           _honest_rho(before, scenario), _honest_rho(after, scenario))
    finally:
        db.dispose()


def _honest_rho(run, scenario) -> float:
    truth = {a.id: a for a in scenario.agents}
    rated = [c for c in run.cards if c.surveys_completed > 0 and truth[c.agent_id].behaviour == "honest"]
    return round(spearman([c.composite.score for c in rated], [truth[c.agent_id].quality for c in rated]).rho, 3)


def summary(runs: list[FindingsRun]) -> dict:
    gamers = sum(len(r.gamers) for r in runs)
    honest = sum(len(r.honest) for r in runs)
    found = sum(sum(map(r.found, r.gamers)) for r in runs)
    flagged = sum(len(r.honest_flagged()) for r in runs)
    return {
        "seeds": len(runs), "gamers_found": f"{found}/{gamers}", "gamers_found_share": round(found / gamers, 3),
        "honest_with_any_finding": f"{flagged}/{honest}", "honest_flagged_share": round(flagged / honest, 3),
        "honest_items_per_agent_month_max": max(
            max((len(r.findings.get(a, [])) / r.months for a in r.honest), default=0) for r in runs),
        "rho_mean": round(sum(r.rho for r in runs) / len(runs), 3),
        "rho_confirmed_mean": round(sum(r.rho_confirmed for r in runs) / len(runs), 3),
        "rho_honest_mean": round(sum(r.rho_honest for r in runs) / len(runs), 3),
        "rho_honest_confirmed_mean": round(sum(r.rho_honest_confirmed for r in runs) / len(runs), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="emulator/scenarios/gaming.toml")
    parser.add_argument("--seeds", type=_seeds, default=_seeds("1-6"), help="e.g. 1-6 or 3,5,2025")
    parser.add_argument("--calls", type=int, default=2000, help="first contacts per seed")
    parser.add_argument("--keep", type=Path, help="keep each seed's SQLite file in this directory")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for seed in tqdm(args.seeds, desc="seeds", unit="seed"):
            runs.append(prove_findings(args.scenario, seed, args.calls, workdir))
            tqdm.write(json.dumps(runs[-1].row()))
    print(json.dumps(summary(runs), indent=2))


if __name__ == "__main__":
    main()
