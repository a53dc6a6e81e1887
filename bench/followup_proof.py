"""The follow-up proof: what asking again the callers who left adds, on the emulator's truth.

One seed runs the scenario's calls through the real webhooks (``bench.proof.simulate``),
scores them (before), then plays the follow-up surveys on simulated time: the planner
decides every leg in call order, each scheduled follow-up is sent at its own time through
the real REST client to the emulator's stand-in (with its faults), and the emulator's
callers reply, opt out or answer the call-back over the real webhooks. Then it scores again
(after) and compares: the share of legs with an answer (per channel), what the survey
dodger's callers said, and the composite's rank correlation with the agents' true quality.

    python -m bench.followup_proof --seeds 1-8 --calls 1000
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from tqdm import tqdm

from aftercall.app import create_app
from aftercall.config import Settings
from aftercall.followup_sim import play_followups
from bench.proof import END, START, ProofRun, _seeds, evaluate, scratch_database, simulate
from scoring.stats.composite import spearman
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import load_config
from store.calls import Leg, SurveyAnswer
from store.db import Database
from store.followups import Followup


@dataclasses.dataclass
class FollowupProof:
    seed: int
    before: ProofRun
    after: ProofRun
    shares_before: dict[str, float]
    shares_after: dict[str, float]
    decisions: dict[str, int]
    """Follow-up rows per final state (and skip reason)."""
    rho_same_agents: dict[str, float]
    """After, over the agents rated before (the dodger had no answers then): like with like;
    ``composite`` with the answer channel in the case mix, ``no_channel_mix`` without it."""
    dodger: dict[str, object]
    rest_requests: int
    sent_twice: int
    """Messages or calls Twilio created beyond one per follow-up that tried to send: must be 0."""


def answer_shares(db: Database) -> dict[str, float]:
    """Of the bridged legs: the share with a rated answer, overall and by the channel it came by."""
    with db.session() as s:
        legs = s.scalar(select(func.count()).select_from(Leg).where(Leg.bridged.is_(True))) or 1
        rows = s.execute(select(SurveyAnswer.channel, func.count(func.distinct(SurveyAnswer.leg_id)))
                         .where(SurveyAnswer.status == "answered",
                                SurveyAnswer.question.in_(("adequate", "satisfaction")))
                         .group_by(SurveyAnswer.channel)).all()
        anywhere = s.scalar(select(func.count(func.distinct(SurveyAnswer.leg_id))).where(
            SurveyAnswer.status == "answered", SurveyAnswer.question.in_(("adequate", "satisfaction"))))
    shares = {channel: round(n / legs, 3) for channel, n in rows}
    return {"any": round((anywhere or 0) / legs, 3), **{c: shares.get(c, 0.0) for c in ("call", "sms", "callback")}}


def same_agents(db: Database, scenario, before: ProofRun) -> dict[str, float]:
    """Spearman ρ of the composite after the follow-ups over the agents rated before them."""
    truth = {a.id: a.quality for a in scenario.agents}
    rated = sorted(c.agent_id for c in before.cards if c.surveys_completed > 0)
    cfg = load_config()
    out = {}
    for name, config in (("composite", cfg), ("no_channel_mix", dataclasses.replace(
            cfg, case_mix=tuple(m for m in cfg.case_mix if m != "channel")))):
        with db.session() as s:
            cards = {c.agent_id: c for c in build_scorecards(s, START, END, config=config)}
        out[name] = round(spearman([cards[a].composite.score for a in rated], [truth[a] for a in rated]).rho, 3)
    return out


def prove_followups(scenario_path: str, seed: int, calls: int, workdir: Path,
                    template: Path | None = None) -> FollowupProof:
    db = scratch_database(workdir / f"followup-proof-{seed}.db", template)
    try:
        truth: list = []
        scenario = simulate(db, scenario_path, seed, calls, truth)
        before, shares_before = evaluate(db, scenario, seed), answer_shares(db)
        app = create_app(Settings.from_env({"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": scenario.auth_token,
                                            "SECRET_KEY": "followup-proof"}), db=db)
        decisions, _callers, rest = play_followups(app, db, scenario, truth, START, END, seed=seed)
        after, shares_after = evaluate(db, scenario, seed), answer_shares(db)
        same = same_agents(db, scenario, before)
        dodger_id = next(a.id for a in scenario.agents if a.behaviour == "survey_dodger")
        card = {c.agent_id: c for c in after.cards}[dodger_id]
        card_before = {c.agent_id: c for c in before.cards}[dodger_id]
        with db.session() as s:
            attempted = dict(s.execute(select(Followup.to_number, func.count()).where(Followup.send_attempts > 0)
                                       .group_by(Followup.to_number)).all())
        created: dict[str, int] = {}
        for made in rest.sent():
            created[made.to] = created.get(made.to, 0) + 1
        twice = sum(max(0, n - attempted.get(number, 0)) for number, n in created.items())
        dodger = {"agent": dodger_id, "completed_before": card_before.surveys_completed,
                  "completed_after": card.surveys_completed, "funnel": card.funnel,
                  "insufficient_before": card_before.insufficient, "insufficient_after": card.insufficient,
                  "tier_before": card_before.tier, "tier_after": card.tier,
                  "csat_raw_after": None if card.csat.raw != card.csat.raw else round(card.csat.raw, 3)}
        return FollowupProof(seed, before, after, shares_before, shares_after, decisions, same, dodger,
                             len(rest.requests), twice)
    finally:
        db.dispose()


def summary(runs: list[FollowupProof]) -> dict:
    def mean(values):
        return round(statistics.fmean(values), 3)
    return {
        "answer_share_before": {k: mean(r.shares_before[k] for r in runs) for k in runs[0].shares_before},
        "answer_share_after": {k: mean(r.shares_after[k] for r in runs) for k in runs[0].shares_after},
        "composite_rho_before": mean(r.before.rho["composite"] for r in runs),
        "composite_rho_after": mean(r.after.rho["composite"] for r in runs),
        "composite_rho_after_same_agents": mean(r.rho_same_agents["composite"] for r in runs),
        "composite_rho_after_same_agents_no_channel_mix": mean(r.rho_same_agents["no_channel_mix"] for r in runs),
        "rho_same_agents_not_lower": f"{sum(r.rho_same_agents['composite'] >= r.before.rho['composite'] for r in runs)}"
                                     f"/{len(runs)}",
        "dodger_answers_after": [r.dodger["completed_after"] for r in runs],
        "sent_twice": sum(r.sent_twice for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="emulator/scenarios/demo.toml")
    parser.add_argument("--seeds", type=_seeds, default=_seeds("1-8"))
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in tqdm(args.seeds, desc="seeds", unit="seed"):
            run = prove_followups(args.scenario, seed, args.calls, Path(tmp))
            runs.append(run)
            tqdm.write(json.dumps({"seed": seed, "rho_before": run.before.rho["composite"],
                                   "rho_after": run.after.rho["composite"], "rho_same_agents": run.rho_same_agents,
                                   "shares_before": run.shares_before,
                                   "shares_after": run.shares_after, "dodger": run.dodger,
                                   "decisions": run.decisions, "sent_twice": run.sent_twice}))
    print(json.dumps(summary(runs), indent=2))


if __name__ == "__main__":
    main()
