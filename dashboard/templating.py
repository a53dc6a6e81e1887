"""Jinja filters that format numbers the same way on every page (and say "—" for none)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import Flask, current_app


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value, digits: int = 0) -> str:
    return "—" if _missing(value) else f"{100 * value:.{digits}f}%"


def interval(est) -> str:
    """An Estimate as "72% (65–79%)"; "—" when it has no data."""
    if est is None or _missing(getattr(est, "mean", None)):
        return "—"
    return f"{pct(est.mean)} ({pct(est.low)}–{pct(est.high)})"


def rating(est) -> str:
    """A 1-5 mean as "4.21 (3.9–4.5)"."""
    if est is None or _missing(getattr(est, "mean", None)):
        return "—"
    return f"{est.mean:.2f} ({est.low:.1f}–{est.high:.1f})"


def mmss(seconds) -> str:
    if _missing(seconds):
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in the centre's time zone."""
    if value is None:
        return "—"
    return value.astimezone(current_app.config["MENU"].hours.tz).strftime(fmt)


def last_day(end: datetime | None) -> str:
    """The last local day of a half-open [start, end) range."""
    return "—" if end is None else local(end - timedelta(seconds=1), "%Y-%m-%d")


def num(value, digits: int = 1) -> str:
    return "—" if _missing(value) else f"{value:.{digits}f}"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(pct=pct, interval=interval, rating=rating, mmss=mmss, local=local, last_day=last_day, num=num)
