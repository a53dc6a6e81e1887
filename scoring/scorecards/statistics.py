"""The statistics on a period's counts: case-mix adjustment (`casemix`), empirical-Bayes
shrinkage with intervals (`shrinkage`), the composite KPI and tiers (`composite`), in numpy
on the aggregates of `tally`. Calls per shift and handle time are context only and never
enter the composite."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring import metrics
from scoring.outcomes.flags import confirmed_covered_calls, confirmed_flag_counts
from scoring.scorecards.config import MIX_COLUMNS, ScoringConfig, load_config
from scoring.scorecards.tally import FCR_AT, FUNNEL, FUNNEL_AT, Tally
from scoring.stats.casemix import DEFAULT_CELL_PRIOR, AdjustedRate, case_mix_adjust
from scoring.stats.composite import BonusTiers, CompositeBreakdown, composite, rank
from scoring.stats.shrinkage import BetaPrior, Estimate, bayesian_average, fit_beta_prior, shrink_many, wilson_interval
from store.agents import Agent

INSUFFICIENT = "insufficient-data"
PAY_REASONS = ("tier", "insufficient", "carried", "unanswered-calls", "finding-confirmed")
"""Why a multiplier is what it is (``AgentScorecard.pay_reason``, the export's ``pay_reason``):
the tier of a composite on enough answers; few answers (no rank, paid on the floor-shrunk
estimate: probation); the agent's own earlier periods (``carried_centres``) that kept a tier the
floor would have cost; calls left unanswered beyond the peers' share that cost a tier;
confirmed findings that cost a tier. The first that applies, from the last."""


@dataclass
class AgentScorecard:
    agent_id: str
    name: str
    team: str
    handled: int
    surveys_offered: int
    surveys_completed: int
    response_rate: float | None
    adequacy: Estimate
    """raw = observed share of "yes"; mean/low/high = case-mix adjusted, shrunk, interval."""
    csat: Estimate
    mean_rating: Estimate
    fcr: Estimate
    confirmed_flags: dict[str, int]
    aht: float | None
    """Mean talk seconds of bridged legs (context only)."""
    calls_per_shift: float | None
    """Handled calls per UTC day with any handled call (context only, never scored)."""
    composite: CompositeBreakdown
    tier: str
    multiplier: float
    insufficient: bool
    rank: int | None = None
    case_mix: dict[str, AdjustedRate] = field(default_factory=dict)
    funnel: dict[str, int] = field(default_factory=dict)
    """Legs, in-call surveys completed, follow-ups sent, follow-ups answered (``FUNNEL``)."""
    unanswered_excess: float = 0.0
    """Handled calls without a survey answer beyond what peers' callers on the same queues
    leave unanswered: counted as unresolved and not satisfied in the composite."""
    covered_calls: float = 0.0
    """Calls covered by confirmed penalised findings (what the penalty is priced on)."""
    pay_reason: str = "tier"
    """``PAY_REASONS``: why the multiplier is what it is."""
    pay_tier: str = ""
    """The tier paid (``tier`` says ``insufficient-data`` for an agent without a rank)."""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["composite"]["parts"] = {p["name"]: p for p in data["composite"]["parts"]}
        return finite(data)


def finite(value):
    """NaN/inf to None so the dict is valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _adjust(cells: list[tuple], cfg: ScoringConfig) -> dict[str, AdjustedRate]:
    """Case-mix adjust 0/1 outcomes given as (agent, mix, n, successes) aggregates."""
    cells = [c for c in cells if c[2] > 0]
    if not cells:
        return {}
    if cfg.case_mix_method == "cells":
        return _adjust_cells(cells, cfg)
    return _adjust_answers(cells, cfg)


def _mix_key(cell: tuple, cfg: ScoringConfig) -> tuple:
    return tuple(str(v) for name, v in zip(MIX_COLUMNS, cell[1]) if name in cfg.case_mix)


def _adjust_cells(cells: list[tuple], cfg: ScoringConfig) -> dict[str, AdjustedRate]:
    """`casemix` indirect standardisation computed on the aggregates directly: the same
    formula as `expected_from_cells`, without one array element per answer (1M calls)."""
    n = np.array([c[2] for c in cells], dtype=float)
    x = np.array([c[3] for c in cells], dtype=float)
    centre = x.sum() / n.sum()
    keys = [_mix_key(c, cfg) for c in cells]
    cell_n: dict[tuple, float] = defaultdict(float)
    cell_x: dict[tuple, float] = defaultdict(float)
    for key, k, s in zip(keys, n, x):
        cell_n[key] += k
        cell_x[key] += s
    expected = np.array([(cell_x[k] + DEFAULT_CELL_PRIOR * centre) / (cell_n[k] + DEFAULT_CELL_PRIOR) for k in keys])
    totals: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(3))
    for cell, k, s, e in zip(cells, n, x, expected):
        totals[cell[0]] += (k, s, e * k)
    out = {}
    for agent, (k, s, e) in totals.items():
        observed, exp = s / k, e / k
        out[agent] = AdjustedRate(agent, int(k), observed, exp, centre,
                                  float(np.clip(observed - exp + centre, 0.0, 1.0)))
    return out


def _adjust_answers(cells: list[tuple], cfg: ScoringConfig) -> dict[str, AdjustedRate]:
    """Expand the aggregates to one 0/1 value per answer for `casemix.case_mix_adjust` (the
    logistic model needs answer-level data); vectorised, no Python loop per answer."""
    agents = sorted({c[0] for c in cells})
    code = {a: i for i, a in enumerate(agents)}
    n = np.array([c[2] for c in cells])
    x = np.array([c[3] for c in cells])
    offsets = np.repeat(np.cumsum(n) - n, n)
    outcomes = ((np.arange(n.sum()) - offsets) < np.repeat(x, n)).astype(float)
    mix = {}
    for j, name in enumerate(MIX_COLUMNS):
        if name in cfg.case_mix:
            labels = {v: i for i, v in enumerate(sorted({str(c[1][j]) for c in cells}))}
            mix[name] = np.repeat([labels[str(c[1][j])] for c in cells], n)
    agent_codes = np.repeat([code[c[0]] for c in cells], n)
    adjusted = case_mix_adjust(agent_codes, outcomes, mix, method=cfg.case_mix_method)
    return {agents[i]: AdjustedRate(agents[i], r.n, r.observed, r.expected, r.centre, r.adjusted)
            for i, r in adjusted.items()}


def _shrunk(adjusted: dict[str, AdjustedRate], agents: list[str], teams: dict[str, str],
            cfg: ScoringConfig) -> dict[str, Estimate]:
    n = np.array([adjusted[a].n if a in adjusted else 0 for a in agents], dtype=float)
    x = np.array([adjusted[a].successes if a in adjusted else 0.0 for a in agents])
    prior = fit_beta_prior(x, n)
    groups = {None: (prior, list(range(len(agents))))}
    if cfg.shrink_toward == "team":
        groups = {}
        for team in sorted(set(teams.values())):
            members = [i for i, a in enumerate(agents) if teams[a] == team]
            tn, tx = n[members].sum(), x[members].sum()
            team_prior = prior
            if tn > 0:
                team_prior = BetaPrior.from_mean(min(max((tx + 0.5) / (tn + 1.0), 1e-6), 1 - 1e-6), prior.strength)
            groups[team] = (team_prior, members)
    out = {}
    for group_prior, members in groups.values():   # one vectorised call per prior, not per agent
        for i, est in zip(members, shrink_many(x[members], n[members], group_prior, cfg.interval_level)):
            a = agents[i]
            raw = adjusted[a].observed if a in adjusted else float("nan")
            out[a] = Estimate(raw, est.mean, est.low, est.high, est.n)
    return out


def _mean_ratings(cells: list[tuple], agents: list[str], cfg: ScoringConfig) -> dict[str, Estimate]:
    sums: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(3))
    for agent, _mix, _an, _ay, sn, _st, ss, sq in cells:
        sums[agent] += (sn, ss, sq)
    total = sum(sums.values(), np.zeros(3))
    centre = total[1] / total[0] if total[0] else 3.0
    var = max(total[2] / total[0] - centre**2, 1e-6) if total[0] else 1.0
    return {a: bayesian_average(sums[a][1], sums[a][0], centre, cfg.mean_rating_prior_weight,
                                values_sq_sum=sums[a][2], prior_var=var, level=cfg.interval_level)
            for a in agents}


MIN_LEGS_FOR_BASELINE = 20
"""Agents with fewer legs on a queue do not vote on its baseline share (too noisy)."""
MIN_VOTERS = 3
"""A queue with fewer voters takes the pooled share of the agents on it: a median of one or two is no peer norm."""
OUTLIER_Z = 2.0
"""An agent whose missing count over all queues is this many binomial standard deviations above
the first medians' expectation does not vote on the second medians."""


def _excess(ordered: list[tuple], missing) -> dict[str, float]:
    """Per agent, the reliable excess of ``missing(counts)`` of the agent's cells over the median
    agent's share on the same queues (``_reliable``).

    The median, not the pooled share: when a quarter of the centre games the same way (agents
    learn from each other) the pooled share moves with them and would excuse most of what each
    one does. The median moves too, less: so it is taken twice, the second time without the
    agents far above the first (``OUTLIER_Z``), which puts it back on the honest agents."""
    cells: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(2))
    for (agent, mix), c in ordered:
        cells[(agent, str(mix[0]))] += (c[0], max(0, missing(c)))
    baseline = _baselines(cells, set())
    first = _totals(cells, baseline)
    outliers = {a for a, (d, var) in first.items() if d > 0 and d > OUTLIER_Z * math.sqrt(var)}
    return {a: _reliable(d, var) for a, (d, var) in _totals(cells, _baselines(cells, outliers)).items()}


def _baselines(cells: dict[tuple[str, str], np.ndarray], outliers: set[str]) -> dict[str, float]:
    """Per queue, the median share of the agents with enough legs there, outliers set aside; the
    pooled share of those agents (of everyone, if all are set aside) when fewer than
    ``MIN_VOTERS`` have enough legs."""
    shares: dict[str, list[float]] = defaultdict(list)
    pooled: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(4))
    for (agent, queue), (handled, n) in cells.items():
        kept = agent not in outliers
        pooled[queue] += (handled * kept, n * kept, handled, n)
        if handled >= MIN_LEGS_FOR_BASELINE and kept:
            shares[queue].append(n / handled)
    out = {}
    for q, (kh, kn, h, n) in pooled.items():
        if len(shares[q]) >= MIN_VOTERS:
            out[q] = float(np.median(shares[q]))
        else:
            out[q] = kn / kh if kh else (n / h if h else 0.0)
    return out


def _totals(cells: dict[tuple[str, str], np.ndarray], baseline: dict[str, float]) -> dict[str, np.ndarray]:
    """Per agent, (missing - expected, binomial variance of missing) summed over its queues."""
    out: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(2))
    for (agent, queue), (handled, n) in cells.items():
        b = baseline[queue]
        out[agent] += (n - handled * b, handled * b * (1.0 - b))
    return out


def _reliable(d: float, var: float) -> float:
    """The excess less what chance alone adds: d - var/d (the square of the agent's true excess
    is d^2 - var on average), 0 when d is within one standard deviation of chance."""
    return float(max(0.0, d - var / d)) if d > 0 else 0.0


def unanswered_excess(ordered: list[tuple]) -> dict[str, float]:
    """Per agent, handled calls without any survey answer beyond the median agent's share on the
    same queues, less what chance alone adds (``_excess``): d - var/d of d = missing - expected.

    Why missing answers are not simply dropped: an agent decides whether many callers reach the
    survey (ends the call under the short-call threshold, cuts it at the cap, stays silent until
    the caller hangs up, transfers the caller away), and the callers so treated are the
    unhappy ones, so the answers left are not a fair sample. Peers' callers skip the survey at
    the same rate on the same queues for reasons of their own (missing at random); only the
    excess is the agent's doing. It covers behaviours no finding sees, and follow-up answers
    shrink it (a dodged call answered by SMS is not missing)."""
    return _excess(ordered, lambda c: c[0] - c[3])          # handled - completed (any answer, any channel)


def uncharged_excess(ordered: list[tuple]) -> dict[str, float]:
    """Per agent, handled calls not charged to the agent's first-contact resolution (another
    agent had the caller last: transferred away) beyond the median agent's share on the same queues:
    counted as not resolved, so passing hard callers on never improves an agent's FCR."""
    return _excess(ordered, lambda c: c[0] - c[FCR_AT])


def pay_floor(tiers: BonusTiers) -> float:
    """The rate at which the composite reaches the lowest paying tier (0.60 with the default
    tiers): the pay estimates are shrunk toward it, so less evidence never pays more."""
    paying = [t for t in tiers.tiers if t.multiplier > 0]
    threshold = paying[0].threshold if paying else 100.0
    return min(max(threshold / 100.0, 0.01), 0.99)


@dataclass(frozen=True)
class PayRate:
    rate: float
    """min(floor-shrunk mean, observed accountable rate): pulled down toward the floor with
    little evidence, never pulled up (an agent below the floor is taken as observed)."""
    var: float
    """Posterior variance of the floor-shrunk rate (the composite's margin)."""


def _accountable(adjusted: dict[str, AdjustedRate], extra_no: dict[str, float],
                 agents: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per agent, (answers + ``extra_no`` unresolved calls, successes): the counts pay reads."""
    n = np.array([(adjusted[a].n if a in adjusted else 0) + extra_no.get(a, 0.0) for a in agents], dtype=float)
    x = np.array([adjusted[a].successes if a in adjusted else 0.0 for a in agents], dtype=float)
    return n, x


def _pay_rates(adjusted: dict[str, AdjustedRate], extra_no: dict[str, float], agents: list[str],
               cfg: ScoringConfig, centres: np.ndarray | None = None) -> list[PayRate]:
    """The rates the composite pays on: case-mix adjusted counts plus ``extra_no`` unresolved
    calls, shrunk with ``pay_prior_strength`` pseudo-answers toward ``pay_floor``, or toward the
    agent's carried centre where that is higher (``carried_centres``)."""
    n, x = _accountable(adjusted, extra_no, agents)
    floor = pay_floor(cfg.tiers)
    m = np.full(len(agents), floor) if centres is None else np.maximum(floor, centres)
    strength = cfg.pay_prior_strength
    mean = (x + strength * m) / (n + strength)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, np.minimum(mean, x / n), mean)
    var = mean * (1 - mean) / (n + strength + 1)
    return [PayRate(float(r), float(v)) for r, v in zip(rate, var)]    # plain floats: the dashboard sorts on them


@dataclass(frozen=True)
class Accountable:
    """A period's accountable evidence: what pay reads, before any prior."""
    agents: list[str]
    adjusted: tuple[dict[str, AdjustedRate], dict[str, AdjustedRate], dict[str, AdjustedRate]]
    """Case-mix adjusted adequacy, CSAT and FCR."""
    extra_no: tuple[dict[str, float], dict[str, float], dict[str, float]]
    """The unresolved calls each rate counts on top: ``unanswered_weight`` x the reliable excess."""
    excess: dict[str, float]


def accountable(tally: Tally, cfg: ScoringConfig) -> Accountable:
    """The accountable evidence of a period's counts (docs/scoring.md, "The pay rule", 1.): one
    function for the period paid and the earlier periods carried, so gaming cannot be banked."""
    ordered = sorted(tally.cells.items(), key=lambda kv: (kv[0][0], tuple(str(v) for v in kv[0][1])))
    cells = [(agent, mix, *c[:FCR_AT]) for (agent, mix), c in ordered]
    answers = [(c[0], c[1], *c[6:]) for c in cells]
    fcr_cells = [(agent, mix, *c[FCR_AT:FUNNEL_AT]) for (agent, mix), c in ordered if c[FCR_AT]]
    excess = unanswered_excess(ordered)
    # Each reliable excess call counts `unanswered_weight` times (docs/scoring.md, "The pay rule",
    # on the value): what is left after chance is taken off understates a gaming agent's excess.
    unresolved = {a: cfg.unanswered_weight * v for a, v in excess.items()}
    uncharged = {a: cfg.unanswered_weight * v for a, v in uncharged_excess(ordered).items()}
    adjusted = (_adjust([(c[0], c[1], c[2], c[3]) for c in answers], cfg),
                _adjust([(c[0], c[1], c[4], c[5]) for c in answers], cfg),
                _adjust([(c[0], c[1], c[2], c[2] - c[3]) for c in fcr_cells], cfg))
    return Accountable(sorted({agent for agent, _mix in tally.cells}), adjusted, (unresolved, unresolved, uncharged),
                       excess)


def carried_centres(months: list[tuple[Tally, set[str]]], cfg: ScoringConfig) -> dict[str, tuple[float, float, float]]:
    """Per agent, the adequacy, CSAT and FCR rates its own earlier periods support at the cautious
    bound: ``months`` most recent first, each with the agents it may not carry (a confirmed
    finding there). Each month's evidence goes through ``accountable`` (an excess of unanswered
    or passed-on calls is charged there as here) and weighs ``carry_discount`` ** (months back - 1);
    the pooled rate less z standard errors (z of ``pay_confidence``) on the discounted count. Only
    agents whose bounds together reach the lowest paying level carry anything."""
    z = stats.norm.ppf(cfg.pay_confidence)
    pooled: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((3, 2)))
    for back, (tally, barred) in enumerate(months):
        ev = accountable(tally, cfg)
        weight = cfg.carry_discount ** back
        for k in range(3):
            n, x = _accountable(ev.adjusted[k], ev.extra_no[k], ev.agents)
            for a, nk, xk in zip(ev.agents, n, x):
                if a not in barred:
                    pooled[a][k] += (weight * nk, weight * xk)
    weights = np.array([cfg.weights.adequacy, cfg.weights.csat, cfg.weights.fcr])
    out = {}
    for a, counts in pooled.items():
        if (counts[:, 0] > 0).all():
            rate = counts[:, 1] / counts[:, 0]
            bound = rate - z * np.sqrt(rate * (1 - rate) / counts[:, 0])
            # Carried as a whole or not at all: a month whose dodged calls sank adequacy does not
            # lend its (real) first-contact resolution to the next.
            if float(weights @ bound) / weights.sum() > pay_floor(cfg.tiers):
                out[a] = tuple(float(v) for v in bound)
    return out


def pay_margin(rates: tuple[PayRate, ...], cfg: ScoringConfig) -> float:
    """Points off the composite so it is the score the evidence supports at ``pay_confidence``
    (one-sided normal bound on the weighted floor-shrunk rates): a tier is paid when the agent
    reaches it with that confidence, so a noisy streak over a threshold on few answers does not
    pay, and an agent with no answers at all is not paid the floor."""
    weights = (cfg.weights.adequacy, cfg.weights.csat, cfg.weights.fcr)
    sd = math.sqrt(sum(w * w * r.var for w, r in zip(weights, rates)))
    return float(100.0 * stats.norm.ppf(cfg.pay_confidence) * sd)


def scorecards_from(session: Session, tally: Tally, start: datetime, end: datetime, cfg: ScoringConfig,
                    team: str | None = None,
                    carried: dict[str, tuple[float, float, float]] | None = None) -> list[AgentScorecard]:
    """The statistics on a period's counts (``score_tally``) with the agents' names and teams
    and the confirmed findings of [start, end); ``carried``: ``scoring.scorecards.carried``."""
    agents = sorted({agent for agent, _mix in tally.cells})
    rows = session.execute(select(Agent.id, Agent.name, Agent.team).where(Agent.id.in_(agents)))
    return score_tally(tally, cfg, names={r.id: (r.name, r.team) for r in rows}, team=team,
                       flags=confirmed_flag_counts(session, start, end),
                       covered=confirmed_covered_calls(session, start, end, cfg.penalised_flags), carried=carried)


def score_tally(tally: Tally, cfg: ScoringConfig, *, names: dict[str, tuple[str, str]],
                flags: dict[str, dict[str, int]], covered: dict[str, float],
                team: str | None = None, carried: dict[str, tuple[float, float, float]] | None = None
                ) -> list[AgentScorecard]:
    """Case mix, shrinkage, composite, tiers, ranks on a period's counts, without the database
    (the pay sweep, ``bench.pay_sweep``, calls it on simulated counts).

    The shown rates are shrunk toward the centre (a supervisor compares agents); the composite
    and pay use the accountable rates (``accountable``) shrunk toward ``pay_floor``, or toward
    the agent's ``carried`` centres (``carried_centres``) where higher (docs/scoring.md, "The pay
    rule"). ``names``: agent -> (name, team); ``flags``: confirmed flags per agent and kind;
    ``covered``: calls covered by confirmed penalised findings per agent."""
    days = tally.shift_days
    # In a fixed order: float sums then do not depend on the order the database grouped in.
    ordered = sorted(tally.cells.items(), key=lambda kv: (kv[0][0], tuple(str(v) for v in kv[0][1])))
    legs: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(4, dtype=int))
    funnel: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(FUNNEL), dtype=int))
    for (agent, _mix), c in ordered:
        legs[agent] += c[:4]
        funnel[agent] += c[FUNNEL_AT:]
    answers = [(agent, mix, *c[4:FCR_AT]) for (agent, mix), c in ordered]
    ev = accountable(tally, cfg)
    agents = ev.agents
    teams = {a: names[a][1] if a in names else "" for a in agents}
    adq_adj, csat_adj, fcr_adj = ev.adjusted
    adequacy, csat, fcr = (_shrunk(adj, agents, teams, cfg) for adj in ev.adjusted)
    ratings = _mean_ratings(answers, agents, cfg)
    excess = ev.excess
    carried = carried or {}
    centres = [np.array([carried.get(a, (0.0, 0.0, 0.0))[k] for a in agents]) for k in range(3)]

    def rates(extra_no, with_carried: bool = True) -> list[tuple[PayRate, ...]]:
        return list(zip(*(_pay_rates(ev.adjusted[k], extra_no[k], agents, cfg, centres[k] if with_carried else None)
                          for k in range(3))))

    pay = rates(ev.extra_no)
    answered_only = rates(({}, {}, ev.extra_no[2]))
    probation = rates(ev.extra_no, with_carried=False) if carried else pay
    margins = [pay_margin(r, cfg) for r in pay]

    cards = []
    for i, a in enumerate(agents):
        handled, offered, talk, done = (int(v) for v in legs.get(a, (0, 0, 0, 0)))
        shifts = days.get(a, 0)
        agent_flags = flags.get(a, {})
        penalised = min(covered.get(a, 0.0), handled)
        breakdown = composite(*(r.rate for r in pay[i]), penalised, handled, cfg.weights,
                              responses=done, min_responses=cfg.min_responses, margin=margins[i])
        tier = cfg.tiers.tier_for(breakdown.score)
        unpenalised = cfg.tiers.tier_for(min(100.0, breakdown.score + breakdown.penalty))
        fully_answered = cfg.tiers.tier_for(composite(*(r.rate for r in answered_only[i]), 0, handled,
                                                      cfg.weights, responses=done, margin=margins[i]).score)
        on_floor = cfg.tiers.tier_for(composite(*(r.rate for r in probation[i]), 0, handled, cfg.weights,
                                                responses=done, margin=pay_margin(probation[i], cfg)).score)
        if unpenalised.multiplier > tier.multiplier:
            reason = "finding-confirmed"
        elif fully_answered.multiplier > unpenalised.multiplier:
            reason = "unanswered-calls"
        elif unpenalised.multiplier > on_floor.multiplier:
            reason = "carried"
        else:
            reason = "insufficient" if breakdown.insufficient else "tier"
        cards.append(AgentScorecard(
            agent_id=a, name=names[a][0] if a in names else a, team=teams[a], handled=handled,
            surveys_offered=offered, surveys_completed=done,
            response_rate=metrics.response_rate(done, offered),
            adequacy=adequacy[a], csat=csat[a], mean_rating=ratings[a], fcr=fcr[a],
            confirmed_flags=agent_flags, aht=metrics.aht(talk, handled),
            calls_per_shift=metrics.rate(handled, shifts), composite=breakdown,
            tier=INSUFFICIENT if breakdown.insufficient else tier.name, multiplier=tier.multiplier,
            insufficient=breakdown.insufficient,
            case_mix={k: v for k, v in (("adequacy", adq_adj.get(a)), ("csat", csat_adj.get(a)),
                                          ("fcr", fcr_adj.get(a))) if v is not None},
            funnel={name: int(v) for name, v in zip(FUNNEL, funnel[a])},
            unanswered_excess=round(excess.get(a, 0.0), 2), covered_calls=round(penalised, 2), pay_reason=reason,
            pay_tier=tier.name))
    if team is not None:
        cards = [c for c in cards if c.team == team]
    ranks = rank({c.agent_id: c.composite for c in cards})
    for c in cards:
        c.rank = ranks[c.agent_id]
    return sorted(cards, key=lambda c: (c.rank is None, c.rank or 0, c.agent_id))


@dataclass
class TeamSummary:
    team: str
    agents: int
    ranked: int
    handled: int
    surveys_offered: int
    surveys_completed: int
    response_rate: float | None
    adequacy: Estimate
    """Pooled raw share with a Wilson interval: team samples are large, no shrinkage needed."""
    csat: Estimate
    fcr: Estimate
    mean_composite: float | None
    """Mean composite of the ranked agents."""
    tiers: dict[str, int]


def _pooled(estimates: list[Estimate], level: float) -> Estimate:
    n = sum(e.n for e in estimates)
    x = sum(round(e.raw * e.n) for e in estimates if e.n > 0)
    low, high = wilson_interval(x, n, level)
    rate = x / n if n else float("nan")
    return Estimate(rate, rate, low, high, n)


def team_summary(cards: list[AgentScorecard], config: ScoringConfig | None = None) -> list[TeamSummary]:
    """Per-team totals of a list of scorecards (from `build_scorecards`), by team name."""
    cfg = config or load_config()
    by_team: dict[str, list[AgentScorecard]] = defaultdict(list)
    for c in cards:
        by_team[c.team].append(c)
    out = []
    for team, members in sorted(by_team.items()):
        ranked = [c for c in members if not c.insufficient]
        offered = sum(c.surveys_offered for c in members)
        completed = sum(c.surveys_completed for c in members)
        tiers: dict[str, int] = defaultdict(int)
        for c in members:
            tiers[c.tier] += 1
        out.append(TeamSummary(
            team=team, agents=len(members), ranked=len(ranked), handled=sum(c.handled for c in members),
            surveys_offered=offered, surveys_completed=completed,
            response_rate=metrics.response_rate(completed, offered),
            adequacy=_pooled([c.adequacy for c in members], cfg.interval_level),
            csat=_pooled([c.csat for c in members], cfg.interval_level),
            fcr=_pooled([c.fcr for c in members], cfg.interval_level),
            mean_composite=float(np.mean([c.composite.score for c in ranked])) if ranked else None,
            tiers=dict(tiers)))
    return out
