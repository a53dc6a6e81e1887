"""Scoring settings (``scoring/scoring.toml`` or ``$SCORING_FILE``): periods, intervals, case
mix, weights and tiers, validated once so a typo fails loudly."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from scoring.stats.composite import BonusTiers, CompositeWeights, Tier

DEFAULT_FILE = Path(__file__).parent.parent / "scoring.toml"
MIX_COLUMNS = ("queue", "language", "reason", "channel")
"""``channel``: how the leg's survey was answered (``call``, ``sms``, ``callback``; its satisfaction
answer's channel, else its adequacy answer's; empty without answers): an SMS answer an hour
later is not the same as one on the line, so each is compared with its own kind."""


RISK_FACTORS = ("unresolved", "repeat_call", "transfer_back", "abandoned", "long_wait",
                "task_failed", "task_overdue", "task_open")
"""The risk factors of a caller (``scoring/customers.py``), in the order their reasons are worded."""


@dataclass(frozen=True)
class AtRiskConfig:
    """``[at_risk]``: callers at risk and their satisfaction index (docs/scoring.md, "Callers at risk")."""

    window_days: int = 30           # the rolling window, back from now, by the calls' start
    prior_answers: float = 4.0      # pseudo-answers at the centre's index that pull a caller's index
    index_points: float = 3.0       # risk points of an index of 0 (of 100 %: none)
    min_score: float = 4.0          # a caller with at least this many risk points is at risk
    points: tuple[tuple[str, float], ...] = (("unresolved", 2.0), ("repeat_call", 1.0), ("transfer_back", 1.0),
                                             ("abandoned", 1.0), ("long_wait", 0.5), ("task_failed", 2.0),
                                             ("task_overdue", 1.0), ("task_open", 0.5))

    def weight(self, factor: str) -> float:
        return dict(self.points)[factor]


def _at_risk(data: dict) -> AtRiskConfig:
    base = AtRiskConfig()
    unknown = set(data) - set(AtRiskConfig.__dataclass_fields__)
    _check(not unknown, f"[at_risk] unknown keys {sorted(unknown)}")
    points = dict(base.points)
    _check(isinstance(data.get("points", {}), dict), "[at_risk.points] must be a table of factor = points")
    extra = set(data.get("points", {})) - set(points)
    _check(not extra, f"[at_risk.points] unknown factors {sorted(extra)}; known: {', '.join(RISK_FACTORS)}")
    points.update(data.get("points", {}))
    values = {k: data.get(k, getattr(base, k)) for k in ("window_days", "prior_answers", "index_points", "min_score")}
    _check(isinstance(values["window_days"], int) and 1 <= values["window_days"] <= 366,
           "[at_risk] window_days must be a whole number of days from 1 to 366")
    for key in ("prior_answers", "index_points", "min_score"):
        _check(isinstance(values[key], (int, float)) and not isinstance(values[key], bool) and values[key] >= 0,
               f"[at_risk] {key} must be a number >= 0")
    _check(values["min_score"] > 0, "[at_risk] min_score must be > 0")
    _check(all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in points.values()),
           "[at_risk.points] must be numbers >= 0")
    return AtRiskConfig(window_days=values["window_days"], prior_answers=float(values["prior_answers"]),
                        index_points=float(values["index_points"]), min_score=float(values["min_score"]),
                        points=tuple((f, float(points[f])) for f in RISK_FACTORS))


@dataclass(frozen=True)
class ScoringConfig:
    period: str = "monthly"
    timezone: str = "Europe/Moscow"
    interval_level: float = 0.90
    min_responses: int = 20
    pay_rule: str = "2026-12-p3"
    pay_prior_strength: float = 20.0
    pay_confidence: float = 0.84
    unanswered_weight: float = 1.5
    carry_periods: int = 3
    carry_discount: float = 0.5
    shrink_toward: str = "centre"
    case_mix: tuple[str, ...] = MIX_COLUMNS
    case_mix_method: str = "cells"
    mean_rating_prior_weight: float = 10.0
    adequate_yes_value: int = 1
    csat_top_box_min: int = 4
    penalised_flags: tuple[str, ...] = ("truncated", "cap-cut", "cap-cliff", "survey-dodging", "early-hangup",
                                        "transfer-out")
    weights: CompositeWeights = CompositeWeights()
    tiers: BonusTiers = BonusTiers()
    at_risk: AtRiskConfig = AtRiskConfig()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(f"scoring config: {message}")


def parse_config(data: dict) -> ScoringConfig:
    """Validate a parsed scoring.toml; unknown keys are rejected so typos fail loudly."""
    known = {f for f in ScoringConfig.__dataclass_fields__}
    _check("insufficient_multiplier" not in data,
           "insufficient_multiplier was removed by pay rule 2026-12-p2 (an agent with few answers is paid on "
           "the estimate pulled toward the lowest paying level, docs/scoring.md); delete the line")
    unknown = set(data) - known
    _check(not unknown, f"unknown keys {sorted(unknown)}")
    base = ScoringConfig()
    values = {k: data.get(k, getattr(base, k)) for k in known - {"weights", "tiers", "at_risk"}}
    _check(values["period"] in ("monthly", "weekly"), "period must be monthly or weekly")
    try:
        ZoneInfo(values["timezone"])
    except Exception:
        raise ValueError(f"scoring config: unknown timezone {values['timezone']!r}") from None
    _check(0 < values["interval_level"] < 1, "interval_level must be in (0, 1)")
    _check(isinstance(values["min_responses"], int) and values["min_responses"] >= 1, "min_responses must be >= 1")
    _check(isinstance(values["pay_rule"], str) and values["pay_rule"].strip() != "", "pay_rule must name a version")
    _check(isinstance(values["pay_prior_strength"], (int, float)) and values["pay_prior_strength"] > 0,
           "pay_prior_strength must be > 0")
    _check(isinstance(values["pay_confidence"], (int, float)) and 0.5 <= values["pay_confidence"] < 1,
           "pay_confidence must be in [0.5, 1)")
    _check(isinstance(values["unanswered_weight"], (int, float)) and values["unanswered_weight"] >= 1,
           "unanswered_weight must be >= 1")
    _check(isinstance(values["carry_periods"], int) and 0 <= values["carry_periods"] <= 12,
           "carry_periods must be a whole number from 0 to 12")
    _check(isinstance(values["carry_discount"], (int, float)) and 0 < values["carry_discount"] <= 1,
           "carry_discount must be in (0, 1]")
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
    return ScoringConfig(**values, weights=weights, tiers=tiers, at_risk=_at_risk(data.get("at_risk", {})))


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
