"""Per-agent scorecards for a time range: what callers answered, adjusted and shrunk.

Counts come from set-based SQL (one GROUP BY per agent and mix cell); the statistics run in
numpy on those aggregates: case-mix adjustment (`casemix`), empirical-Bayes shrinkage with
intervals (`shrinkage`), the composite KPI and tiers (`composite`). Calls per shift and
handle time are computed for context only and never enter the composite.

A call belongs to the range by `Call.started_at` (Twilio's time). First-contact resolution
is 1 - the share of handled calls followed by another call from the same number within the
repeat window of `scoring/rules.toml`, charged to the call's last bridged agent.
"""
from __future__ import annotations

import math
import os
import tomllib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import and_, case, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from scoring.casemix import DEFAULT_CELL_PRIOR, AdjustedRate, case_mix_adjust
from scoring.composite import BonusTiers, CompositeBreakdown, CompositeWeights, Tier, bonus_tier, composite, rank
from scoring.flags import confirmed_flag_counts
from scoring.rules import load_rules
from scoring.shrinkage import BetaPrior, Estimate, bayesian_average, fit_beta_prior, shrink_many, wilson_interval
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer
from store.flags import Flag

DEFAULT_FILE = Path(__file__).with_name("scoring.toml")
MIX_COLUMNS = ("queue", "language", "reason")
INSUFFICIENT = "insufficient-data"
RATE_QUESTIONS = ("adequate", "satisfaction")
WORK_MEM = "128MB"
"""PostgreSQL memory per hash/sort for the scorecard queries (SET LOCAL, this transaction
only): the default 4MB spills the legs hash joins of a million-call month to disk."""
TRACE_METRICS = ("handled", "surveys_offered", "surveys_completed", "adequacy", "csat", "mean_rating",
                 "fcr", "aht", "confirmed_flags")


@dataclass(frozen=True)
class ScoringConfig:
    period: str = "monthly"
    timezone: str = "Europe/Moscow"
    interval_level: float = 0.90
    min_responses: int = 20
    insufficient_multiplier: float = 0.5
    shrink_toward: str = "centre"
    case_mix: tuple[str, ...] = MIX_COLUMNS
    case_mix_method: str = "cells"
    mean_rating_prior_weight: float = 10.0
    adequate_yes_value: int = 1
    csat_top_box_min: int = 4
    penalised_flags: tuple[str, ...] = ("truncated", "cap-cut", "cap-cliff", "survey-dodging", "early-hangup")
    weights: CompositeWeights = CompositeWeights()
    tiers: BonusTiers = BonusTiers()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(f"scoring config: {message}")


def parse_config(data: dict) -> ScoringConfig:
    """Validate a parsed scoring.toml; unknown keys are rejected so typos fail loudly."""
    known = {f for f in ScoringConfig.__dataclass_fields__}
    unknown = set(data) - known
    _check(not unknown, f"unknown keys {sorted(unknown)}")
    base = ScoringConfig()
    values = {k: data.get(k, getattr(base, k)) for k in known - {"weights", "tiers"}}
    _check(values["period"] in ("monthly", "weekly"), "period must be monthly or weekly")
    try:
        ZoneInfo(values["timezone"])
    except Exception:
        raise ValueError(f"scoring config: unknown timezone {values['timezone']!r}") from None
    _check(0 < values["interval_level"] < 1, "interval_level must be in (0, 1)")
    _check(isinstance(values["min_responses"], int) and values["min_responses"] >= 1, "min_responses must be >= 1")
    _check(values["insufficient_multiplier"] >= 0, "insufficient_multiplier must be >= 0")
    _check(values["shrink_toward"] in ("centre", "team"), "shrink_toward must be centre or team")
    values["case_mix"] = tuple(values["case_mix"])
    _check(set(values["case_mix"]) <= set(MIX_COLUMNS), f"case_mix may name only {MIX_COLUMNS}")
    _check(values["case_mix_method"] in ("cells", "logistic"), "case_mix_method must be cells or logistic")
    _check(values["mean_rating_prior_weight"] > 0, "mean_rating_prior_weight must be > 0")
    values["penalised_flags"] = tuple(values["penalised_flags"])
    try:
        weights = CompositeWeights(**data.get("weights", {}))
        tiers = (BonusTiers(tuple(Tier(t["name"], float(t["threshold"]), float(t["multiplier"]))
                                  for t in data["tiers"])) if "tiers" in data else BonusTiers())
    except (TypeError, KeyError) as exc:
        raise ValueError(f"scoring config: bad [weights] or [[tiers]]: {exc}") from None
    return ScoringConfig(**values, weights=weights, tiers=tiers)


def load_config(path: str | Path | None = None) -> ScoringConfig:
    """Config from `path`, else ``$SCORING_FILE``, else the shipped scoring/scoring.toml."""
    path = Path(path or os.environ.get("SCORING_FILE") or DEFAULT_FILE)
    try:
        with path.open("rb") as fh:
            return parse_config(tomllib.load(fh))
    except FileNotFoundError:
        raise ValueError(f"scoring file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"scoring file {path}: {exc}") from None


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

    def to_dict(self) -> dict:
        data = asdict(self)
        data["composite"]["parts"] = {p["name"]: p for p in data["composite"]["parts"]}
        return _finite(data)


def _finite(value):
    """NaN/inf to None so the dict is valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# ---- SQL: per-agent aggregates --------------------------------------------------------

def _in_range(start: datetime, end: datetime):
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError("start and end must be timezone-aware with start < end")
    return and_(Call.started_at >= start, Call.started_at < end)


def _mix_exprs():
    return {"queue": Leg.queue, "language": func.coalesce(Leg.language, ""), "reason": QueueEntry.reason}


COUNTS = ("handled", "offered", "talk_seconds", "completed", "adequate_n", "adequate_yes", "csat_n", "csat_top",
          "rating_sum", "rating_sq", "fcr_n", "fcr_repeats")
"""What a scorecard is built from, per agent and mix cell: plain counts, so the counts of
disjoint time ranges add up (``scoring.rollup`` stores them per day)."""
_FCR = COUNTS.index("fcr_n")


@dataclass
class Tally:
    """Counts per (agent, (queue, language, reason)) in ``COUNTS`` order, and days worked per agent."""
    cells: dict[tuple[str, tuple], list[int]] = field(default_factory=dict)
    shift_days: dict[str, int] = field(default_factory=dict)

    def add(self, agent: str, mix: tuple, counts, offset: int = 0) -> None:
        cell = self.cells.setdefault((agent, tuple(mix)), [0] * len(COUNTS))
        for i, v in enumerate(counts, offset):
            cell[i] += int(v or 0)

    def merge(self, other: "Tally") -> "Tally":
        for (agent, mix), counts in other.cells.items():
            self.add(agent, mix, counts)
        for agent, days in other.shift_days.items():
            self.shift_days[agent] = self.shift_days.get(agent, 0) + days
        return self


def live_tally(session: Session, start: datetime, end: datetime, cfg: ScoringConfig) -> Tally:
    """The counts of [start, end) straight from calls, legs and answers (three GROUP BYs)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    tally = Tally(shift_days=_shift_days(session, start, end))
    for agent, mix, *counts in _leg_cells(session, start, end, cfg):
        tally.add(agent, mix, counts)
    for agent, mix, n, repeats in _fcr_cells(session, start, end):
        tally.add(agent, mix, (n, repeats), offset=_FCR)
    return tally


def _leg_cells(session: Session, start, end, cfg: ScoringConfig) -> list[tuple]:
    """One pass over the range's legs, per (agent, mix cell): handled, offered, talk seconds,
    completed surveys, adequacy n/yes and CSAT n/top-box/sum/sum of squares. Each leg has at
    most one answer per question, so the two outer joins never multiply rows."""
    bridged = Leg.bridged.is_(True)
    adq, sat = aliased(SurveyAnswer), aliased(SurveyAnswer)
    answered = lambda a, q: and_(a.leg_id == Leg.id, a.question == q, a.status == "answered")  # noqa: E731
    has_adq, has_sat = adq.id.is_not(None), sat.id.is_not(None)
    mix = [_mix_exprs()[m] for m in MIX_COLUMNS]
    q = (select(Leg.agent_id, *mix,
                func.sum(case((bridged, 1), else_=0)),
                func.sum(case((Leg.survey_state != "not-offered", 1), else_=0)),
                func.sum(case((bridged, func.coalesce(Leg.talk_seconds, 0)), else_=0)),
                func.sum(case((or_(has_adq, has_sat), 1), else_=0)),
                func.sum(case((has_adq, 1), else_=0)),
                func.sum(case((adq.value == cfg.adequate_yes_value, 1), else_=0)),
                func.sum(case((has_sat, 1), else_=0)),
                func.sum(case((sat.value >= cfg.csat_top_box_min, 1), else_=0)),
                func.sum(func.coalesce(sat.value, 0)),
                func.sum(func.coalesce(sat.value * sat.value, 0)))
         .join(Call, Call.sid == Leg.call_sid).join(QueueEntry, QueueEntry.id == Leg.entry_id)
         .outerjoin(adq, answered(adq, "adequate")).outerjoin(sat, answered(sat, "satisfaction"))
         .where(_in_range(start, end)).group_by(Leg.agent_id, *mix))
    return [(r[0], tuple(r[1:4]), *r[4:]) for r in session.execute(q)]


def _shift_days(session: Session, start, end) -> dict[str, int]:
    """Days (UTC) with a handled call per agent: DISTINCT in a subquery hashes, where
    count(DISTINCT ...) would sort every leg."""
    day = _utc_date(session, Call.started_at)
    days = (select(Leg.agent_id.label("agent_id"), day.label("day"))
            .join(Call, Call.sid == Leg.call_sid).where(_in_range(start, end), Leg.bridged.is_(True))
            .distinct().subquery())
    return {a: int(n) for a, n in session.execute(select(days.c.agent_id, func.count()).group_by(days.c.agent_id))}


def _utc_date(session: Session, column):
    """The UTC calendar date of a timestamp column (on PostgreSQL whatever the session's TimeZone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _within(session: Session, earlier, later, hours: float):
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0 <= hours
    return later <= earlier + func.make_interval(0, 0, 0, 0, 0, 0, hours * 3600.0)


def _next_calls(session: Session, start, end):
    """Each identifiable call in range with the same number's next call (within range + window)."""
    rules = load_rules()
    horizon = end + timedelta(hours=rules.repeat_window_hours)
    order = (Call.started_at, Call.sid)
    nxt = (select(Call.sid.label("sid"), Call.started_at.label("at"),
                  func.lead(Call.started_at).over(partition_by=Call.from_number, order_by=order).label("next_at"),
                  func.lead(Call.sid).over(partition_by=Call.from_number, order_by=order).label("next_sid"))
           .where(Call.started_at >= start, Call.started_at < horizon,
                  func.lower(Call.from_number).not_in(sorted(rules.ignore_numbers)))
           .subquery())
    repeat = and_(nxt.c.next_at.is_not(None), _within(session, nxt.c.at, nxt.c.next_at, rules.repeat_window_hours))
    return nxt, repeat


def _last_bridged():
    later = aliased(Leg)
    return and_(Leg.bridged.is_(True), ~exists().where(later.call_sid == Leg.call_sid, later.bridged.is_(True),
                                                       later.seq > Leg.seq))


def _fcr_cells(session: Session, start, end) -> list[tuple]:
    """Per (agent, mix cell): handled first contacts charged to the agent, and repeats among them."""
    nxt, repeat = _next_calls(session, start, end)
    mix = [_mix_exprs()[m] for m in MIX_COLUMNS]
    q = (select(Leg.agent_id, *mix, func.count(), func.sum(case((repeat, 1), else_=0)))
         .join(nxt, nxt.c.sid == Leg.call_sid).join(QueueEntry, QueueEntry.id == Leg.entry_id)
         .where(nxt.c.at >= start, nxt.c.at < end, _last_bridged()).group_by(Leg.agent_id, *mix))
    return [(r[0], tuple(r[1:4]), int(r[4]), int(r[5] or 0)) for r in session.execute(q)]


# ---- statistics -----------------------------------------------------------------------

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


def build_scorecards(session: Session, start: datetime, end: datetime, *, team: str | None = None,
                     config: ScoringConfig | None = None, rollup: bool = False) -> list[AgentScorecard]:
    """Scorecards of every agent with a leg in [start, end), best rank first.

    Case mix and shrinkage priors always use the whole centre, so an agent's numbers are the
    same in a team view and in the payroll export; `team` only filters (and ranks within).
    ``rollup=True`` (the dashboard) takes the counts of settled days from the daily rollup
    (``scoring.rollup``), the same numbers at a fraction of the cost; payroll reads the rows.
    """
    cfg = config or load_config()
    if rollup:
        from scoring.rollup import rolled_tally
        tally = rolled_tally(session, start, end, cfg)
    else:
        tally = live_tally(session, start, end, cfg)
    return scorecards_from(session, tally, start, end, cfg, team)


def scorecards_from(session: Session, tally: Tally, start: datetime, end: datetime, cfg: ScoringConfig,
                    team: str | None = None) -> list[AgentScorecard]:
    """The statistics on a period's counts: case mix, shrinkage, composite, tiers, ranks."""
    flags = confirmed_flag_counts(session, start, end)
    days = tally.shift_days
    # In a fixed order: float sums then do not depend on the order the database grouped in.
    ordered = sorted(tally.cells.items(), key=lambda kv: (kv[0][0], tuple(str(v) for v in kv[0][1])))
    cells = [(agent, mix, *c[:_FCR]) for (agent, mix), c in ordered]
    fcr_cells = [(agent, mix, *c[_FCR:]) for (agent, mix), c in ordered if c[_FCR]]
    legs: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(4, dtype=int))
    for agent, _mix, handled, offered, talk, completed, *_ in cells:
        legs[agent] += (handled, offered, talk, completed)
    answers = [(c[0], c[1], *c[6:]) for c in cells]
    agents = sorted({agent for agent, _mix in tally.cells})
    info = {a.id: a for a in session.scalars(select(Agent).where(Agent.id.in_(agents)))}
    teams = {a: info[a].team if a in info else "" for a in agents}

    adq_adj = _adjust([(c[0], c[1], c[2], c[3]) for c in answers], cfg)
    adequacy = _shrunk(adq_adj, agents, teams, cfg)
    csat_adj = _adjust([(c[0], c[1], c[4], c[5]) for c in answers], cfg)
    csat = _shrunk(csat_adj, agents, teams, cfg)
    fcr_adj = _adjust([(c[0], c[1], c[2], c[2] - c[3]) for c in fcr_cells], cfg)
    fcr = _shrunk(fcr_adj, agents, teams, cfg)
    ratings = _mean_ratings(answers, agents, cfg)

    cards = []
    for a in agents:
        handled, offered, talk, done = (int(v) for v in legs.get(a, (0, 0, 0, 0)))
        shifts = days.get(a, 0)
        agent_flags = flags.get(a, {})
        penalised = min(sum(v for k, v in agent_flags.items() if k in cfg.penalised_flags), handled)
        breakdown = composite(adequacy[a].mean, csat[a].mean, fcr[a].mean, penalised, handled, cfg.weights,
                              responses=done, min_responses=cfg.min_responses)
        tier = bonus_tier(breakdown, cfg.tiers)
        cards.append(AgentScorecard(
            agent_id=a, name=info[a].name if a in info else a, team=teams[a], handled=handled,
            surveys_offered=offered, surveys_completed=done,
            response_rate=done / offered if offered else None,
            adequacy=adequacy[a], csat=csat[a], mean_rating=ratings[a], fcr=fcr[a],
            confirmed_flags=agent_flags, aht=talk / handled if handled else None,
            calls_per_shift=handled / shifts if shifts else None, composite=breakdown,
            tier=tier.name if tier else INSUFFICIENT,
            multiplier=tier.multiplier if tier else cfg.insufficient_multiplier,
            insufficient=breakdown.insufficient,
            case_mix={k: v for k, v in (("adequacy", adq_adj.get(a)), ("csat", csat_adj.get(a)),
                                          ("fcr", fcr_adj.get(a))) if v is not None}))
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
            response_rate=completed / offered if offered else None,
            adequacy=_pooled([c.adequacy for c in members], cfg.interval_level),
            csat=_pooled([c.csat for c in members], cfg.interval_level),
            fcr=_pooled([c.fcr for c in members], cfg.interval_level),
            mean_composite=float(np.mean([c.composite.score for c in ranked])) if ranked else None,
            tiers=dict(tiers)))
    return out


# ---- trend and trace ------------------------------------------------------------------

def _bucket_start(at: datetime, bucket: str, tz: ZoneInfo) -> datetime:
    local = at.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if bucket == "week":
        local -= timedelta(days=local.weekday())
    elif bucket == "month":
        local = local.replace(day=1)
    return local.replace(tzinfo=tz)


def agent_trend(session: Session, agent_id: str, start: datetime, end: datetime, bucket: str = "week",
                *, config: ScoringConfig | None = None) -> list[dict]:
    """The agent's adequacy and CSAT per day/week/month bucket (centre-local), each shrunk toward
    the centre's rate over [start, end) with an interval. Not case-mix adjusted: it shows the
    agent against their own past, on whatever calls they took."""
    if bucket not in ("day", "week", "month"):
        raise ValueError("bucket must be day, week or month")
    cfg = config or load_config()
    A = SurveyAnswer
    rows = session.execute(
        select(A.agent_id, A.question, A.value, Call.started_at).join(Call, Call.sid == A.call_sid)
        .where(_in_range(start, end), A.status == "answered", A.question.in_(RATE_QUESTIONS))).all()
    success = {"adequate": lambda v: v == cfg.adequate_yes_value, "satisfaction": lambda v: v >= cfg.csat_top_box_min}
    per_agent: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    buckets: dict[datetime, dict[str, list[int]]] = defaultdict(lambda: {q: [0, 0] for q in RATE_QUESTIONS})
    for agent, question, value, at in rows:
        ok = int(success[question](value))
        per_agent[(question, agent)][0] += 1
        per_agent[(question, agent)][1] += ok
        if agent == agent_id:
            b = buckets[_bucket_start(at, bucket, cfg.tz)][question]
            b[0] += 1
            b[1] += ok
    priors = {}
    for q in RATE_QUESTIONS:
        counts = [v for (qq, _a), v in per_agent.items() if qq == q]
        priors[q] = fit_beta_prior([c[1] for c in counts], [c[0] for c in counts])
    out = []
    for at in sorted(buckets):
        point = {"bucket_start": at.isoformat()}
        for q, name in (("adequate", "adequacy"), ("satisfaction", "csat")):
            n, x = buckets[at][q]
            point[name] = _finite(asdict(shrink_many([x], [n], priors[q], cfg.interval_level)[0]))
        out.append(point)
    return out


def trace(session: Session, agent_id: str, start: datetime, end: datetime, metric: str,
          *, config: ScoringConfig | None = None) -> list[dict]:
    """The calls behind one scorecard number, oldest first (no caller phone numbers)."""
    if metric not in TRACE_METRICS:
        raise ValueError(f"metric must be one of {', '.join(TRACE_METRICS)}")
    cfg = config or load_config()
    if metric == "confirmed_flags":
        q = (select(Flag).where(Flag.agent_id == agent_id, Flag.state == "confirmed",
                                Flag.occurred_at >= start, Flag.occurred_at < end).order_by(Flag.occurred_at))
        return [{"flag_id": f.id, "kind": f.kind, "call_sid": f.call_sid, "leg_id": f.leg_id,
                 "occurred_at": f.occurred_at.isoformat(), "reason": f.reason,
                 "penalised": f.kind in cfg.penalised_flags} for f in session.scalars(q)]
    base = [Leg.id, Leg.call_sid, Call.started_at, Leg.queue, Leg.language, QueueEntry.reason,
            Leg.talk_seconds, Leg.ended_by, Leg.survey_state]
    names = ["leg_id", "call_sid", "started_at", "queue", "language", "reason", "talk_seconds", "ended_by",
             "survey_state"]
    where = [Leg.agent_id == agent_id, _in_range(start, end)]
    extra: list = []
    joins = []
    if metric in ("handled", "aht"):
        where.append(Leg.bridged.is_(True))
    elif metric == "surveys_offered":
        where.append(Leg.survey_state != "not-offered")
    elif metric == "fcr":
        nxt, repeat = _next_calls(session, start, end)
        joins.append((nxt, nxt.c.sid == Leg.call_sid))
        where.append(_last_bridged())
        extra = [case((repeat, True), else_=False), case((repeat, nxt.c.next_sid), else_=None)]
        names += ["repeat", "repeat_call_sid"]
    else:
        question = {"adequacy": "adequate", "csat": "satisfaction", "mean_rating": "satisfaction",
                    "surveys_completed": None}[metric]
        A = aliased(SurveyAnswer)
        cond = [A.leg_id == Leg.id, A.status == "answered"]
        cond.append(A.question == question if question else A.question.in_(RATE_QUESTIONS))
        joins.append((A, and_(*cond)))
        if question:
            extra = [A.value]
            names.append("value")
    q = select(*base, *extra).join(Call, Call.sid == Leg.call_sid).join(QueueEntry, QueueEntry.id == Leg.entry_id)
    for target, on in joins:
        q = q.join(target, on)
    q = q.where(*where).order_by(Call.started_at, Leg.id)
    if metric == "surveys_completed":
        q = q.distinct()
    out = []
    for row in session.execute(q):
        item = dict(zip(names, row))
        item["started_at"] = item["started_at"].isoformat()
        if metric == "adequacy":
            item["success"] = item["value"] == cfg.adequate_yes_value
        elif metric == "csat":
            item["success"] = item["value"] >= cfg.csat_top_box_min
        out.append(item)
    return out
