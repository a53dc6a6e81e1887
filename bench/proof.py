"""The scorecard proof over many seeds: how closely each ranking follows the agents' true quality.

Each seed runs the scenario through the real webhooks (in-process, SQLite), recomputes
flags, builds the scorecards and compares rankings with the emulator's latent quality
(Spearman ρ over the agents with answered surveys: raw CSAT is undefined for a survey
dodger). One seed is one draw of a dozen agents, so the spread matters more than any
single run; `tests/payroll/test_proof.py` pins one seed.

    python -m bench.proof --seeds 1-10 --calls 1000 --chart bench/results/proof.svg
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import statistics
import tempfile
from pathlib import Path

from tqdm import tqdm

from aftercall import jobs
from aftercall.app import create_app
from aftercall.config import Settings
from emulator import load_scenario, run
from scoring.outcomes.recompute import recompute
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import load_config
from scoring.scorecards.statistics import AgentScorecard
from scoring.stats.composite import spearman
from store.accounts import ApiToken, hash_token
from store.db import Database, upgrade
from store.flags import Flag
from store.jobs import submit

START = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
END = START + dt.timedelta(days=60)
RANKINGS = ("composite", "composite_no_case_mix", "raw_csat", "raw_adequacy", "calls_per_shift")


@dataclasses.dataclass
class ProofRun:
    seed: int
    rho: dict[str, float]
    cards: list[AgentScorecard]
    flagged: dict[str, set[str]]
    """Agent ids per flag kind (open or confirmed) after the recompute."""


def simulate(db: Database, scenario_path: str, seed: int, calls: int, truth: list | None = None):
    """Drive `calls` first contacts through the app into `db`, then recompute flags; returns the
    scenario (and appends the emulator's truth of every call to ``truth`` if given)."""
    scenario = dataclasses.replace(load_scenario(scenario_path), seed=seed, calls=calls, start=START)
    with db.session() as s:
        s.add(ApiToken(name="emulator", role="admin", token_hash=hash_token(scenario.api_token)))
    settings = Settings.from_env({"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": scenario.auth_token,
                                  "SECRET_KEY": "proof"})
    result = run(scenario, create_app(settings, db=db), progress=False)
    if truth is not None:
        truth.extend(result.truth)
    with db.session() as s:
        job = submit(s, recompute, start=START.isoformat(), end=END.isoformat())
    if jobs.run(db, job.id) != "done":
        raise RuntimeError(f"seed {seed}: flag recompute failed")
    return scenario


def evaluate(db: Database, scenario, seed: int) -> ProofRun:
    """Rank correlations of each ranking with the scenario's latent agent quality."""
    truth = {a.id: a.quality for a in scenario.agents}
    cfg = load_config()
    with db.session() as s:
        cards = build_scorecards(s, START, END, config=cfg)
        no_mix = {c.agent_id: c for c in build_scorecards(s, START, END, config=dataclasses.replace(cfg, case_mix=()))}
        flagged: dict[str, set[str]] = {}
        for kind, agent in s.query(Flag.kind, Flag.agent_id):
            flagged.setdefault(kind, set()).add(agent)
    rated = [c for c in cards if c.surveys_completed > 0]
    quality = [truth[c.agent_id] for c in rated]
    values = {
        "composite": [c.composite.score for c in rated],
        "composite_no_case_mix": [no_mix[c.agent_id].composite.score for c in rated],
        "raw_csat": [c.csat.raw for c in rated],
        "raw_adequacy": [c.adequacy.raw for c in rated],
        "calls_per_shift": [c.calls_per_shift or 0.0 for c in rated],
    }
    rho = {name: round(spearman(values[name], quality).rho, 3) for name in RANKINGS}
    return ProofRun(seed, rho, cards, flagged)


def scratch_database(path: Path, template: Path | None = None) -> Database:
    """A fresh, migrated SQLite file at ``path``: a copy of ``template`` (already migrated) if given."""
    if template is not None:
        path.write_bytes(template.read_bytes())
    else:
        upgrade(f"sqlite:///{path}")
    return Database(f"sqlite:///{path}")


def prove(scenario_path: str, seed: int, calls: int, workdir: Path, template: Path | None = None) -> ProofRun:
    """One seed end to end in a fresh SQLite file under `workdir` (copied from `template` if given)."""
    db = scratch_database(workdir / f"proof-{seed}.db", template)
    try:
        scenario = simulate(db, scenario_path, seed, calls)
        return evaluate(db, scenario, seed)
    finally:
        db.dispose()


def chart(runs: list[ProofRun]) -> str:
    """A dot per seed and a bar at the mean, one row per ranking, ρ from −1 to 1."""
    width, left, row, top = 560, 170, 28, 24
    height = top + row * len(RANKINGS) + 24

    def x(rho: float) -> float:
        return left + (width - left - 20) * (rho + 1) / 2

    body = [f'<text x="{left}" y="14" font-size="12">Spearman ρ vs true agent quality, {len(runs)} seeds</text>']
    for tick in (-1, -0.5, 0, 0.5, 1):
        body.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{height - 20}" stroke="#ddd"/>'
                    f'<text x="{x(tick):.1f}" y="{height - 6}" font-size="10" text-anchor="middle">{tick:g}</text>')
    for i, name in enumerate(RANKINGS):
        y = top + row * i + row / 2
        values = [r.rho[name] for r in runs]
        body.append(f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{name}</text>')
        body.extend(f'<circle cx="{x(v):.1f}" cy="{y:.1f}" r="3" fill="#3a6ea5" fill-opacity="0.6"/>' for v in values)
        mean = statistics.fmean(values)
        body.append(f'<line x1="{x(mean):.1f}" x2="{x(mean):.1f}" y1="{y - 9:.1f}" y2="{y + 9:.1f}" '
                    f'stroke="#b03a2e" stroke-width="2"><title>mean {mean:.3f}</title></line>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" font-family="sans-serif">{"".join(body)}</svg>\n')


def summary(runs: list[ProofRun]) -> dict:
    out = {name: {"mean": round(statistics.fmean(r.rho[name] for r in runs), 3),
                  "min": min(r.rho[name] for r in runs), "max": max(r.rho[name] for r in runs)}
           for name in RANKINGS}
    out["composite_beats_raw_csat"] = f"{sum(r.rho['composite'] > r.rho['raw_csat'] for r in runs)}/{len(runs)}"
    return out


def _seeds(text: str) -> list[int]:
    if "-" in text:
        first, last = (int(v) for v in text.split("-", 1))
        return list(range(first, last + 1))
    return [int(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="emulator/scenarios/demo.toml")
    parser.add_argument("--seeds", type=_seeds, default=_seeds("1-10"), help="e.g. 1-10 or 3,5,2025")
    parser.add_argument("--calls", type=int, default=1000, help="first contacts per seed")
    parser.add_argument("--chart", type=Path, help="write an SVG dot plot here")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in tqdm(args.seeds, desc="seeds", unit="seed"):
            runs.append(prove(args.scenario, seed, args.calls, Path(tmp)))
            tqdm.write(f"seed {seed}: {runs[-1].rho}")
    print(json.dumps(summary(runs), indent=2))
    if args.chart:
        args.chart.parent.mkdir(parents=True, exist_ok=True)
        args.chart.write_text(chart(runs))
        print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
