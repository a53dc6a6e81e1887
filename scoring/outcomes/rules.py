"""The outcome rules' thresholds, read from a TOML file (default ``scoring/rules.toml``,
or ``RULES_FILE``), validated once so a typo fails loudly instead of silently flagging."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).parent.parent / "rules.toml"


@dataclass(frozen=True)
class Rules:
    version: str
    short_talk_seconds: int | None      # None = derived from the data
    auto_quantile: float
    auto_min_calls: int
    fallback_seconds: int
    adequate_question: str
    adequate_no_value: int
    cap_seconds: int
    cap_window_seconds: int
    cliff_alpha: float
    cliff_min_calls: int
    repeat_window_hours: float
    ignore_numbers: frozenset[str]
    dodging_min_legs: int
    dodging_min_excess: float
    dodging_alpha: float
    early_min_legs: int
    early_min_excess: float
    early_alpha: float
    repeat_min_legs: int
    repeat_min_excess: float
    repeat_alpha: float
    transfer_min_legs: int
    transfer_min_excess: float
    transfer_alpha: float
    service_level_seconds: int
    short_abandon_seconds: int


def _get(data: dict, section: str, key: str, kind: type, low: float | None = None, high: float | None = None):
    try:
        value = data[section][key]
    except KeyError:
        raise ValueError(f"rules: [{section}] {key} is missing") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"rules: [{section}] {key} must be a {kind.__name__}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"rules: [{section}] {key} must be within [{low}, {high}], got {value!r}")
    return value


def parse_rules(data: dict) -> Rules:
    version = data.get("version")
    if not isinstance(version, str) or not version or len(version) > 32:
        raise ValueError("rules: version must be a non-empty string of at most 32 characters")
    short = data.get("truncated", {}).get("short_talk_seconds")
    if short != "auto" and (not isinstance(short, int) or isinstance(short, bool) or short < 1):
        raise ValueError(f"rules: [truncated] short_talk_seconds must be \"auto\" or whole seconds >= 1, got {short!r}")
    cap = _get(data, "cap", "cap_seconds", int, 60)
    window = _get(data, "cap", "window_seconds", int, 5, cap - 1)
    if window % 5:
        raise ValueError("rules: [cap] window_seconds must be a multiple of 5 (the cliff test's bin width)")
    numbers = _get(data, "repeat", "ignore_numbers", list)
    return Rules(
        version=version,
        short_talk_seconds=None if short == "auto" else short,
        auto_quantile=_get(data, "truncated", "auto_quantile", float, 0.01, 0.5),
        auto_min_calls=_get(data, "truncated", "auto_min_calls", int, 1),
        fallback_seconds=_get(data, "truncated", "fallback_seconds", int, 1),
        adequate_question=_get(data, "truncated", "adequate_question", str),
        adequate_no_value=_get(data, "truncated", "adequate_no_value", int),
        cap_seconds=cap,
        cap_window_seconds=window,
        cliff_alpha=_get(data, "cap", "cliff_alpha", float, 1e-6, 0.5),
        cliff_min_calls=_get(data, "cap", "cliff_min_calls", int, 10),
        repeat_window_hours=_get(data, "repeat", "window_hours", float, 0.1, 24 * 90),
        ignore_numbers=frozenset(str(n).lower() for n in numbers),
        dodging_min_legs=_get(data, "dodging", "min_legs", int, 1),
        dodging_min_excess=_get(data, "dodging", "min_excess", float, 0.0, 1.0),
        dodging_alpha=_get(data, "dodging", "alpha", float, 1e-6, 0.5),
        early_min_legs=_get(data, "early_hangup", "min_legs", int, 1),
        early_min_excess=_get(data, "early_hangup", "min_excess", float, 0.0, 1.0),
        early_alpha=_get(data, "early_hangup", "alpha", float, 1e-6, 0.5),
        repeat_min_legs=_get(data, "repeat_calls", "min_legs", int, 1),
        repeat_min_excess=_get(data, "repeat_calls", "min_excess", float, 0.0, 1.0),
        repeat_alpha=_get(data, "repeat_calls", "alpha", float, 1e-6, 0.5),
        transfer_min_legs=_get(data, "transfer_out", "min_legs", int, 1),
        transfer_min_excess=_get(data, "transfer_out", "min_excess", float, 0.0, 1.0),
        transfer_alpha=_get(data, "transfer_out", "alpha", float, 1e-6, 0.5),
        service_level_seconds=_get(data, "sla", "service_level_seconds", int, 1),
        short_abandon_seconds=_get(data, "sla", "short_abandon_seconds", int, 0),
    )


def load_rules(path: str | Path | None = None) -> Rules:
    """Rules from ``path``, else ``$RULES_FILE``, else the shipped defaults."""
    path = Path(path or os.environ.get("RULES_FILE") or DEFAULT_FILE)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"rules file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"rules file {path}: {exc}") from None
    return parse_rules(data)
