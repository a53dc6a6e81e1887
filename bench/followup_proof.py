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
import datetime as dt
import json
import random
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from tqdm import tqdm

from aftercall.app import create_app
from aftercall.config import Settings
from aftercall.followups import sender as make_sender
from bench.proof import END, START, ProofRun, _seeds, evaluate, simulate
from emulator import Target
from emulator.followups import FollowupPlayer
from emulator.twilio_rest import FakeTwilioRest
from store.calls import Leg, SurveyAnswer
from store.db import Database, upgrade
from store.followups import Followup
from survey import followups

ACCOUNT = "AC" + "2" * 32
FROM = "+15005550006"
REST_FAULTS = {"429": 0.03, "500": 0.01, "500-after-create": 0.01, "timeout-after-create": 0.005}


class SimClock:
    """The app's follow-up clock on simulated time, moved by the harness and the emulator."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def set(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@dataclasses.dataclass
class FollowupProof:
    seed: int
    before: ProofRun
    after: ProofRun
    shares_before: dict[str, float]
    shares_after: dict[str, float]
    decisions: dict[str, int]
    """Follow-up rows per final state (and skip reason)."""
    dodger: dict[str, object]
    rest_requests: int
    sent_twice: int
    """Legs whose caller got more than one message or call: must be 0."""


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


def play_followups(db: Database, scenario, seed: int, truth: list) -> tuple[dict[str, int], FakeTwilioRest]:
    """Plan, send and play every follow-up of the run on simulated time."""
    clock = SimClock(START)
    rest = FakeTwilioRest(ACCOUNT, scenario.auth_token, seed=seed, rates=scenario.followups.rest_faults or REST_FAULTS,
                          slow_s=0.5, clock=clock)
    rest.start()
    settings = Settings.from_env({"DATABASE_URL": db.url, "TWILIO_AUTH_TOKEN": scenario.auth_token,
                                  "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_FROM_NUMBER": FROM,
                                  "TWILIO_API_BASE_URL": rest.url, "PUBLIC_BASE_URL": "http://localhost",
                                  "FOLLOWUPS_ENABLED": "1", "SECRET_KEY": "proof"})
    app = create_app(settings, db=db)
    app.extensions["followup_clock"] = clock
    target = Target.wsgi(app, "http://localhost")
    fs = app.config["FOLLOWUPS"]
    sender = make_sender(settings)
    sender.client.http_client.timeout = 0.25
    player = FollowupPlayer(scenario, rest, target, truth, on_time=clock.set, from_number=FROM)
    rng = random.Random(f"{seed}:followup-draw")
    try:
        while True:    # every leg decided in call order, as the worker does at each call's end
            with db.session() as s:
                if not followups.plan(s, fs.policy, fs.survey, now=END + dt.timedelta(days=1), rng=rng,
                                      since=START - dt.timedelta(days=1)):
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
            followups.expire(s, END + dt.timedelta(days=30))
            decisions: dict[str, int] = {}
            for state, reason, n in s.execute(select(Followup.state, Followup.reason, func.count())
                                              .group_by(Followup.state, Followup.reason)):
                key = f"{state}:{reason}" if reason else state
                decisions[key] = n
    finally:
        target.close()
        rest.stop()
    return decisions, rest


def prove_followups(scenario_path: str, seed: int, calls: int, workdir: Path,
                    template: Path | None = None) -> FollowupProof:
    path = workdir / f"followup-proof-{seed}.db"
    if template is not None:
        path.write_bytes(template.read_bytes())
    else:
        upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    try:
        truth: list = []
        scenario = simulate(db, scenario_path, seed, calls, truth)
        before, shares_before = evaluate(db, scenario, seed), answer_shares(db)
        decisions, rest = play_followups(db, scenario, seed, truth)
        after, shares_after = evaluate(db, scenario, seed), answer_shares(db)
        dodger_id = next(a.id for a in scenario.agents if a.behaviour == "survey_dodger")
        card = {c.agent_id: c for c in after.cards}[dodger_id]
        card_before = {c.agent_id: c for c in before.cards}[dodger_id]
        with db.session() as s:
            per_leg = s.execute(select(Followup.to_number, Followup.leg_id)).all()
        sids_per_number: dict[str, int] = {}
        for made in rest.sent():
            sids_per_number[made.to] = sids_per_number.get(made.to, 0) + 1
        legs_per_number: dict[str, int] = {}
        for number, _leg in per_leg:
            legs_per_number[number] = legs_per_number.get(number, 0)
        with db.session() as s:
            sent_legs = dict(s.execute(select(Followup.to_number, func.count()).where(
                Followup.twilio_sid.is_not(None)).group_by(Followup.to_number)).all())
        twice = sum(1 for number, n in sids_per_number.items() if n > sent_legs.get(number, 0))
        dodger = {"agent": dodger_id, "completed_before": card_before.surveys_completed,
                  "completed_after": card.surveys_completed, "funnel": card.funnel,
                  "insufficient_before": card_before.insufficient, "insufficient_after": card.insufficient,
                  "tier_before": card_before.tier, "tier_after": card.tier,
                  "csat_raw_after": None if card.csat.raw != card.csat.raw else round(card.csat.raw, 3)}
        return FollowupProof(seed, before, after, shares_before, shares_after, decisions, dodger,
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
        "rho_not_lower": f"{sum(r.after.rho['composite'] >= r.before.rho['composite'] - 1e-9 for r in runs)}/{len(runs)}",
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
                                   "rho_after": run.after.rho["composite"], "shares_before": run.shares_before,
                                   "shares_after": run.shares_after, "dodger": run.dodger,
                                   "decisions": run.decisions, "sent_twice": run.sent_twice}))
    print(json.dumps(summary(runs), indent=2))


if __name__ == "__main__":
    main()
