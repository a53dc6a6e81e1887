"""The pay-rule sweep (issue 19): does gaming ever pay, in money, against an honest twin?

A centre is simulated leg by leg at the level the scorecard reads (``scoring.scorecards.tally``
counts, the leg verdicts the findings read), without webhooks: 16 honest background agents of
quality 0.2 ... 0.9, and for each quality 0.2, 0.3, ... 0.9 a gaming agent, its honest twin
(same quality, same calls) and a second honest twin (how much two honest twins differ by
chance: the tolerance). A fifth of the centre games the same way at once, which moves the
peers' shares the rule and the findings compare with: the conservative side. Then:

- pay: ``score_tally`` (the product's statistics) gives each agent's composite and multiplier,
  before and after the findings raised are confirmed (every finding, as a supervisor would);
- findings: the product's peer tests (``scoring.outcomes.peers``) and cliff test
  (``scoring.stats.cliff``) on the simulated legs, with the thresholds of ``scoring/rules.toml``;
- the old way: calls per shift against the twin's (what a per-call bonus would have paid).

A caller's answer is missing at random for an honest agent (60 % answer in the call; with
follow-ups, 30 % of the rest answer by SMS). The gaming agent picks its victims the worst way
for the rule: silent-until-hang-up and transfer-away pick unresolved calls first, transfer-out
the hardest calls, and callers cut short answer half as often. A leg is resolved with
probability quality + 0.3 * (0.5 - difficulty); an unresolved caller calls again (FCR) with
probability 0.45.

    python -m bench.pay_sweep --seeds 10 --out bench/out/pay_sweep.json --markdown
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from collections import defaultdict

import numpy as np

from scoring.outcomes.peers import bh_q_values, outliers, peer_tests
from scoring.outcomes.rules import Rules, load_rules
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.statistics import carried_centres, score_tally
from scoring.scorecards.tally import COUNTS, Tally
from scoring.stats.cliff import detect_cliff
from scoring.stats.composite import spearman

QUALITIES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
BEHAVIOURS = ("early_hangup", "cap_cutter", "survey_dodger", "transfer_away", "transfer_hard", "few_calls")
INTENSITIES = (0.1, 0.3, 0.6, 0.9)
RIGHT_KIND = {"early_hangup": "early-hangup", "cap_cutter": "cap-cliff", "survey_dodger": "survey-dodging",
              "transfer_away": "transfer-out", "transfer_hard": "transfer-out", "few_calls": None}
"""The finding each behaviour should get (the product's peer test for ``transfer-out``: the
transferred share against peers on the same queues, rules.toml [transfer_out]); taking few
calls is no misconduct and has none."""
QUEUES = ("billing", "tech")
CALLS = 800              # handled legs per agent and month (the gaming scenario's volume is ~1,000)
ANSWER, FOLLOWUP_ANSWER, CALLER_ENDS, REPEAT = 0.6, 0.3, 0.15, 0.45
SHIFT_SECONDS, WRAP_SECONDS, SILENT_SECONDS = 8 * 3600 * 0.85, 30.0, 40.0
Z_TOLERANCE = 3.0
"""A gain counts when above 3 standard errors of twin-to-twin noise: one-sided, a 0.13 % false
alarm per comparison, about 0.5 over the 384 comparisons (6 behaviours x 4 intensities x 8
qualities x 2 follow-up settings) of the table."""


@dataclasses.dataclass
class Legs:
    """One agent's legs as columns."""
    queue: np.ndarray
    talk: np.ndarray
    caller_ended: np.ndarray
    resolved: np.ndarray
    transferred: np.ndarray       # handed to another agent before the survey
    cut: np.ndarray               # ended by the agent before the need was met (callers answer less)
    handle: np.ndarray            # seconds of the agent's time (talk + wrap-up + silence)


def _draw(rng: np.random.Generator, quality: float, n: int, behaviour: str, p: float, cap: float) -> Legs:
    queue = rng.integers(0, 2, n)
    difficulty = rng.random(n) + 0.15 * queue                      # tech is harder
    need = rng.lognormal(np.log(300), 0.7, n)
    resolved_p = np.clip(quality + 0.3 * (0.5 - difficulty), 0.02, 0.98)
    resolved = rng.random(n) < resolved_p
    caller_ended = rng.random(n) < CALLER_ENDS
    talk = need.copy()
    extra = np.zeros(n)                                              # agent seconds beyond talk + wrap-up
    transferred = np.zeros(n, bool)
    cut = np.zeros(n, bool)
    k = int(round(p * n))
    if behaviour == "early_hangup":
        idx = rng.choice(n, k, replace=False)
        talk[idx] = rng.uniform(8, 45, k)
        resolved[idx] = rng.random(k) < 0.1 * resolved_p[idx]
        caller_ended[idx], cut[idx] = False, True
    elif behaviour == "cap_cutter":
        idx = np.flatnonzero((need > cap - 15) & (rng.random(n) < p))
        talk[idx] = cap - rng.uniform(2, 12, len(idx))
        resolved[idx] = rng.random(len(idx)) < 0.3 * resolved_p[idx]
        caller_ended[idx], cut[idx] = False, True
    elif behaviour in ("survey_dodger", "transfer_away"):
        idx = np.argsort(resolved + rng.random(n) * 0.5)[:k]           # unresolved calls first
        if behaviour == "survey_dodger":
            caller_ended[idx] = True
            extra[idx] = SILENT_SECONDS
        else:
            transferred[idx], caller_ended[idx] = True, False
    elif behaviour == "transfer_hard":
        idx = np.argsort(-difficulty)[:k]                               # the hardest calls, at the start
        transferred[idx], caller_ended[idx] = True, False
        talk[idx] = rng.uniform(20, 60, k)
        extra[idx] = -WRAP_SECONDS + 10                                # no wrap-up: the next agent has it
    return Legs(queue, talk, caller_ended, resolved, transferred, cut, talk + WRAP_SECONDS + extra)


@dataclasses.dataclass
class Centre:
    legs: dict[str, Legs]
    answered: dict[str, tuple[np.ndarray, np.ndarray]]   # in-call answer, follow-up answer
    charged: dict[str, np.ndarray]                          # last agent of the call (FCR charged here)
    extra: dict[str, list]                                  # received transfers: (queue, resolved) per agent


def simulate_centre(rng: np.random.Generator, behaviour: str, p: float, rules: Rules,
                    followups: bool) -> tuple[Centre, dict[str, tuple[float, str]]]:
    """One month of a centre: background agents, gaming agents and their twins."""
    agents: dict[str, tuple[float, str]] = {}
    for i, q in enumerate(np.linspace(0.2, 0.9, 16)):
        agents[f"bg{i:02d}"] = (float(q), "honest")
    for q in QUALITIES:
        agents[f"twin-{q:.1f}"] = (q, "honest")
        agents[f"null-{q:.1f}"] = (q, "honest")          # a second honest twin: how much twins differ by chance
        agents[f"game-{q:.1f}"] = (q, behaviour)
    background = [a for a in agents if a.startswith("bg")]
    legs, answered, charged, extra = {}, {}, {}, defaultdict(list)
    for a, (q, b) in agents.items():
        n = int(round(CALLS * (1 - p))) if b == "few_calls" else CALLS
        leg = _draw(rng, q, n, "honest" if b == "few_calls" else b, p, rules.cap_seconds)
        legs[a] = leg
        for j in np.flatnonzero(leg.transferred):                  # the next agent finishes the call
            to = background[rng.integers(len(background))]
            tq = agents[to][0]
            extra[to].append((int(leg.queue[j]), bool(rng.random() < np.clip(tq + 0.3 * (0.5 - 0.5), 0.02, .98))))
    for a, leg in legs.items():
        offered = ~leg.caller_ended & ~leg.transferred
        rate = np.where(leg.cut & ~leg.resolved, ANSWER / 2, ANSWER)
        incall = offered & (rng.random(len(rate)) < rate)
        late = (followups & ~incall & ~leg.transferred) & (rng.random(len(rate)) < FOLLOWUP_ANSWER)
        answered[a] = (incall, late)
        charged[a] = ~leg.transferred
    return Centre(legs, answered, charged, extra), agents


def tally_of(rng: np.random.Generator, centre: Centre) -> Tally:
    """The scorecard counts (``tally.COUNTS``) of the simulated month, per agent and (queue,
    answer channel) cell."""
    tally = Tally()
    fcr_at = COUNTS.index("fcr_n")
    for a, leg in centre.legs.items():
        incall, late = centre.answered[a]
        received = centre.extra.get(a, [])
        n_extra = len(received)
        queue = np.concatenate([leg.queue, np.array([q for q, _ in received], dtype=int)])
        resolved = np.concatenate([leg.resolved, np.array([r for _, r in received], dtype=bool)])
        talk = np.concatenate([leg.talk, np.full(n_extra, 300.0)])
        incall = np.concatenate([incall, rng.random(n_extra) < ANSWER * (1 - CALLER_ENDS)])
        late = np.concatenate([late, np.zeros(n_extra, bool)])
        charged = np.concatenate([centre.charged[a], np.ones(n_extra, bool)])
        done = incall | late
        adequate = done & (resolved ^ (rng.random(len(resolved)) < 0.05))
        top = rng.random(len(resolved)) < np.where(resolved, 0.85, 0.15)
        rating = np.where(top, 5, 2) * done
        fcr = charged & (rng.random(len(resolved)) < 0.95)
        repeat = fcr & (rng.random(len(resolved)) < np.where(resolved, 0.03, REPEAT))
        channel = np.where(incall, 1, np.where(late, 2, 0))
        columns = [np.ones(len(queue)), np.ones(len(queue)), talk.astype(int), done, done, adequate, done,
                   done & top, rating, rating * rating, np.zeros(len(queue)), np.zeros(len(queue)),
                   np.ones(len(queue)), incall, ~incall, late]
        key = queue * 3 + channel
        for k in np.unique(key):
            on = key == k
            tally.add(a, (QUEUES[k // 3], "en", "menu", ("", "call", "sms")[k % 3]),
                      [int(np.sum(c[on])) for c in columns])
        for q in np.unique(queue):
            on = queue == q
            tally.add(a, (QUEUES[q], "en", "menu", ""), (int(fcr[on].sum()), int(repeat[on].sum())), offset=fcr_at)
        tally.shift_days[a] = 20
    return tally


def findings(centre: Centre, rules: Rules) -> dict[str, dict[str, float]]:
    """Per agent, the findings the product's tests raise, with the calls each covers
    (observed - expected, what a confirmed one costs)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    caller_talk = {q: np.concatenate([leg.talk[(leg.queue == q) & leg.caller_ended] for leg in centre.legs.values()])
                   for q in range(len(QUEUES))}
    threshold = {q: float(np.quantile(t, rules.auto_quantile)) for q, t in caller_talk.items()}
    short, ended, passed = [], [], []
    for a, leg in centre.legs.items():
        agent_ended = ~leg.caller_ended & ~leg.transferred
        for q in range(len(QUEUES)):
            on = leg.queue == q
            short.append((a, QUEUES[q], int(on.sum()), int((on & agent_ended & (leg.talk < threshold[q])).sum())))
            ended.append((a, QUEUES[q], int(on.sum()), int((on & leg.caller_ended).sum())))
            passed.append((a, QUEUES[q], int(on.sum()), int((on & leg.transferred).sum())))
    for kind, rows, min_legs, alpha, min_excess in (
            ("early-hangup", short, rules.early_min_legs, rules.early_alpha, rules.early_min_excess),
            ("survey-dodging", ended, rules.dodging_min_legs, rules.dodging_alpha, rules.dodging_min_excess),
            ("transfer-out", passed, rules.transfer_min_legs, rules.transfer_alpha, rules.transfer_min_excess)):
        for t in outliers(peer_tests(rows, min_legs=min_legs, alpha=alpha), min_excess):
            out[t.agent_id][kind] = max(0.0, t.observed - t.expected)
    tested = {}
    for a, leg in centre.legs.items():
        agent_ended = ~leg.caller_ended & ~leg.transferred
        r = detect_cliff(leg.talk[agent_ended], rules.cap_seconds, window=rules.cap_window_seconds,
                         min_calls=rules.cliff_min_calls, alpha=rules.cliff_alpha)
        if not r.insufficient:
            tested[a] = r
    names = sorted(tested)
    for a, q in zip(names, bh_q_values([tested[a].p_value for a in names])):
        r = tested[a]
        if q <= rules.cliff_alpha and r.observed > r.expected:
            out[a]["cap-cliff"] = max(0.0, r.observed - r.expected)
    return out


@dataclasses.dataclass
class Pair:
    behaviour: str
    intensity: float
    quality: float
    seed: int
    followups: bool
    confirmed: bool
    gamer: float                # multiplier
    twin: float
    gamer_score: float
    twin_score: float
    gamer_cps: float            # calls per shift (the old way)
    twin_cps: float
    null: float                 # the second honest twin's multiplier (seed noise between twins)
    gamer_probation: float | None = None
    """Taking few calls: the part-timer's multiplier without earlier periods (a new hire: probation);
    ``gamer`` is then with three full-time months before (carried)."""


def run_centre(behaviour: str, p: float, seed: int, followups: bool, cfg: ScoringConfig,
               rules: Rules) -> tuple[list[Pair], dict[str, set[str]], dict[str, str], float]:
    rng = np.random.default_rng([seed, BEHAVIOURS.index(behaviour), int(p * 100), int(followups)])
    centre, agents = simulate_centre(rng, behaviour, p, rules, followups)
    tally = tally_of(rng, centre)
    found = findings(centre, rules)
    cps = {a: SHIFT_SECONDS / float(np.mean(leg.handle)) for a, leg in centre.legs.items()}
    carried, probation = None, {}
    if behaviour == "few_calls":          # everyone worked full time, honestly, the three months before
        months = [(tally_of(rng, simulate_centre(rng, "honest", 0.0, rules, followups)[0]), set())
                  for _ in range(cfg.carry_periods)]
        carried = carried_centres(months, cfg)
        probation = {c.agent_id: c.multiplier for c in score_tally(tally, cfg, names={}, flags={}, covered={})}
    pairs = []
    for confirmed in (False, True):
        covered = {a: sum(v for k, v in f.items() if k in cfg.penalised_flags) for a, f in found.items()} \
            if confirmed else {}
        cards = {c.agent_id: c for c in score_tally(tally, cfg, names={}, flags={}, covered=covered, carried=carried)}
        for q in QUALITIES:
            g, t = cards[f"game-{q:.1f}"], cards[f"twin-{q:.1f}"]
            pairs.append(Pair(behaviour, p, q, seed, followups, confirmed, g.multiplier, t.multiplier,
                              g.composite.score, t.composite.score, cps[g.agent_id], cps[t.agent_id],
                              cards[f"null-{q:.1f}"].multiplier, probation.get(g.agent_id)))
        if not confirmed:   # how the composite ranks the centre's honest agents (32 of 800 calls each)
            honest = [a for a, (_q, b) in agents.items() if b == "honest"]
            rho = spearman([cards[a].composite.score for a in honest], [agents[a][0] for a in honest]).rho
    return pairs, {a: set(f) for a, f in found.items()}, {a: b for a, (_q, b) in agents.items()}, rho


@dataclasses.dataclass
class SweepResult:
    pairs: list[Pair]
    detection: dict[tuple[str, float], list[bool]]     # (behaviour, intensity) -> right finding per gamer run
    honest_flagged: list[bool]                          # any finding per honest agent run
    honest_rho: list[float] = dataclasses.field(default_factory=list)
    """Per centre-month, Spearman(composite, true quality) over its honest agents."""


def sweep(seeds: int, *, behaviours=BEHAVIOURS, intensities=INTENSITIES, config: ScoringConfig | None = None,
          rules: Rules | None = None) -> SweepResult:
    cfg, rules = config or load_config(), rules or load_rules()
    pairs, detection, honest, rhos = [], defaultdict(list), [], []
    for behaviour in behaviours:
        for p in intensities:
            for seed in range(seeds):
                for followups in (False, True):
                    got, found, truth, rho = run_centre(behaviour, p, seed, followups, cfg, rules)
                    pairs += got
                    rhos.append(rho)
                    kind = RIGHT_KIND[behaviour]
                    for a, b in truth.items():
                        if b == "honest":
                            honest.append(bool(found.get(a)))
                        elif kind is not None:
                            detection[(behaviour, p)].append(kind in found.get(a, set()))
    return SweepResult(pairs, dict(detection), honest, rhos)


@dataclasses.dataclass
class Cell:
    behaviour: str
    intensity: float
    confirmed: bool
    worst_gain: float          # the largest mean(gamer - twin) multiplier over quality and follow-ups
    worst_quality: float
    tolerance: float           # at that quality: 3 standard errors of what two honest twins differ by
    score_gain: float          # the largest mean(gamer - twin) composite, points
    holds: bool                # no quality's mean gain above its tolerance


def null_sd(result: SweepResult) -> dict[float, float]:
    """Per quality, the standard deviation of (second honest twin - twin) multipliers over
    every run: the seed-to-seed noise a gain is measured against."""
    by: dict[float, list[float]] = defaultdict(list)
    for x in result.pairs:
        if not x.confirmed:
            by[x.quality].append(x.null - x.twin)
    return {q: statistics.pstdev(v) for q, v in by.items()}


def cells(result: SweepResult) -> list[Cell]:
    """Per behaviour, intensity and confirmation: the largest mean multiplier gain of a gaming
    agent over its twin at any quality, with and without follow-ups, each against a tolerance
    of ``Z_TOLERANCE`` standard errors of twin-to-twin noise at that quality (at least 0.01)."""
    noise = null_sd(result)
    groups: dict[tuple, list[Pair]] = defaultdict(list)
    for x in result.pairs:
        groups[(x.behaviour, x.intensity, x.confirmed, x.quality, x.followups)].append(x)
    out: dict[tuple, Cell] = {}
    for (b, p, c, q, _f), xs in sorted(groups.items()):
        gain = statistics.fmean(x.gamer - x.twin for x in xs)
        tol = max(0.01, Z_TOLERANCE * noise[q] / len(xs) ** 0.5)
        score = statistics.fmean(x.gamer_score - x.twin_score for x in xs)
        cell = out.setdefault((b, p, c), Cell(b, p, c, gain, q, tol, score, True))
        cell.holds = cell.holds and gain <= tol
        cell.score_gain = max(cell.score_gain, score)
        if gain - tol > cell.worst_gain - cell.tolerance:
            cell.worst_gain, cell.worst_quality, cell.tolerance = gain, q, tol
    for cell in out.values():
        cell.worst_gain, cell.tolerance, cell.score_gain = (round(cell.worst_gain, 3), round(cell.tolerance, 3),
                                                            round(cell.score_gain, 1))
    return sorted(out.values(), key=lambda c: (BEHAVIOURS.index(c.behaviour), c.intensity, c.confirmed))


def old_way(result: SweepResult) -> dict[str, dict[float, float]]:
    """Per behaviour and intensity: the gaming agent's calls per shift against its twin's, in %."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for x in result.pairs:
        if not x.confirmed:
            groups[(x.behaviour, x.intensity)].append(x.gamer_cps / x.twin_cps - 1)
    out: dict[str, dict[float, float]] = defaultdict(dict)
    for (b, p), v in groups.items():
        out[b][p] = round(100 * statistics.fmean(v), 1)
    return dict(out)


def detection_rates(result: SweepResult) -> dict[tuple[str, float], float]:
    return {k: sum(v) / len(v) for k, v in result.detection.items()}


def markdown(result: SweepResult, seeds: int) -> str:
    """The tables of docs/scoring.md and the README."""
    rates = detection_rates(result)
    lines = [f"Pay sweep: {seeds} seeds x with/without follow-ups, 8 quality levels, {CALLS} calls per agent-month.",
             "", "| behaviour | intensity | worst mean gain vs twin (multiplier), unconfirmed | confirmed | "
             "tolerance (3 SE of twin-to-twin noise) | worst mean composite gain (points) | right finding | holds |", "|---|---|---|---|---|---|---|---|"]
    by = {(c.behaviour, c.intensity, c.confirmed): c for c in cells(result)}
    for b in BEHAVIOURS:
        for p in INTENSITIES:
            if (b, p, False) not in by:
                continue
            u, c = by[(b, p, False)], by[(b, p, True)]
            kind = RIGHT_KIND[b]
            found = "n/a" if kind is None else f"{rates[(b, p)]:.0%} ({kind})"
            lines.append(f"| {b} | {p:.0%} | {u.worst_gain:+.3f} (q {u.worst_quality}) | {c.worst_gain:+.3f} | "
                         f"{u.tolerance:.3f} | {max(u.score_gain, c.score_gain):+.1f} | {found} | "
                         f"{'yes' if u.holds and c.holds else 'NO'} |")
    fp = sum(result.honest_flagged) / max(1, len(result.honest_flagged))
    lines += ["", f"Honest agents with any finding: {fp:.1%} of {len(result.honest_flagged)} agent-months.",
              "", f"Spearman(composite, true quality) over each centre-month's 32 honest agents (800 calls each): "
              f"mean {np.mean(result.honest_rho):.3f}, lowest {np.min(result.honest_rho):.3f} "
              f"({len(result.honest_rho)} centre-months)."]
    return "\n".join(lines)


def part_timers_markdown(result: SweepResult) -> str:
    """What an honest agent taking fewer calls is paid (the few-calls gaming agent is exactly
    that): mean multiplier per quality and share of the calls taken, carried (three full-time
    months before) / probation (none: a new hire), against the full-timer's."""
    by: dict[tuple[float, float], list[Pair]] = defaultdict(list)
    for x in result.pairs:
        if x.behaviour == "few_calls" and not x.confirmed:
            by[(x.quality, x.intensity)].append(x)
    shares = sorted({p for _q, p in by})
    if not shares:
        return ""
    lines = ["| quality | full-timer (" + f"{CALLS} calls) | " + " | ".join(
        f"{1 - p:.0%} of the calls: carried / probation" for p in shares) + " |", "|---" * (len(shares) + 2) + "|"]
    for q in QUALITIES:
        full = statistics.fmean(x.twin for p in shares for x in by[(q, p)])
        lines.append(f"| {q:.1f} | ×{full:.2f} | " + " | ".join(
            f"×{statistics.fmean(x.gamer for x in by[(q, p)]):.2f} / "
            f"×{statistics.fmean(x.gamer_probation for x in by[(q, p)]):.2f}" for p in shares) + " |")
    return "\n".join(lines)


def old_way_markdown(result: SweepResult) -> str:
    table = old_way(result)
    lines = ["| behaviour | calls per shift vs honest twin at 10 / 30 / 60 / 90 % |", "|---|---|"]
    for b in BEHAVIOURS:
        if b in table:
            lines.append(f"| {b} | " + " / ".join(f"{table[b][p]:+.0f} %" for p in INTENSITIES if p in table[b]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", help="write the cells as JSON here")
    parser.add_argument("--markdown", action="store_true", help="print the tables for docs/scoring.md and the README")
    args = parser.parse_args()
    result = sweep(args.seeds)
    summary = {"cells": [dataclasses.asdict(c) for c in cells(result)],
               "detection": {f"{b}@{p}": r for (b, p), r in detection_rates(result).items()},
               "honest_false_positive": sum(result.honest_flagged) / max(1, len(result.honest_flagged)),
               "honest_rho": {"mean": float(np.mean(result.honest_rho)), "min": float(np.min(result.honest_rho))},
               "old_way_calls_per_shift_pct": old_way(result)}
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(summary, fh, indent=1)
    print(json.dumps(summary, indent=1) if not args.markdown else "\n\n".join(
        (markdown(result, args.seeds), part_timers_markdown(result), old_way_markdown(result))))


if __name__ == "__main__":
    main()
