"""Benchmarks 2 and 3: scorecards over 1M calls / 300k answers against one GROUP BY, and the bonus export.

Run ``python -m bench.data`` first (it loads ``aftercall_bench``). The baseline is a single
pass over the same rows (legs ⋈ calls ⟕ answers, grouped by agent) computing the raw counts
a scorecard starts from; the scorecard adds case-mix cells, first-contact resolution and the
statistics. It is timed counted from the rows (what payroll's lock does), and as the
dashboard reads it: from the daily rollup (``scoring.scorecards.rollup``), whose build is timed too.
Each is timed several times; the median is reported, with the ratios.

The bonus export (benchmark 3) is what payroll pulls: the locked period's file for 1,000
agents in each format, built, stored and audit-logged. Locking (which computes the
scorecards once, in an RQ job) is timed separately. All of it runs in one transaction that
is rolled back, so the benchmark can be repeated on the same database.

    python -m bench.scorecard_bench --url postgresql+psycopg://postgres@127.0.0.1:5432/aftercall_bench
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import delete, text

from bench.data import END
from scoring.payroll.exports import export_period
from scoring.payroll.periods import lock_period, period_bounds, period_key_for
from scoring.scorecards.rollup import refresh
from scoring.scorecards.build import build_scorecards
from store.db import Database
from store.payroll import EXPORT_FORMATS
from store.rollup import ScorecardDay

GROUP_BY = text("""
SELECT l.agent_id,
       count(DISTINCT l.id) FILTER (WHERE l.bridged)                              AS handled,
       count(DISTINCT l.id) FILTER (WHERE l.survey_state <> 'not-offered')        AS offered,
       count(a.id) FILTER (WHERE a.question = 'adequate' AND a.status = 'answered') AS adequate_n,
       count(a.id) FILTER (WHERE a.question = 'adequate' AND a.value = 1)         AS adequate_yes,
       avg(a.value) FILTER (WHERE a.question = 'satisfaction')                    AS csat_mean
FROM legs l JOIN calls c ON c.sid = l.call_sid LEFT JOIN survey_answers a ON a.leg_id = l.id
WHERE c.started_at >= :start AND c.started_at < :end
GROUP BY l.agent_id
""")


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def run(url: str, repeat: int = 3, days: int = 30) -> dict:
    db = Database(url)
    start, end = END - timedelta(days=days), END + timedelta(seconds=1)
    out: dict = {}
    with db.session() as s:
        out["group_by_s"], rows = timed(lambda: s.execute(GROUP_BY, {"start": start, "end": end}).all(), repeat)
        out["agents"] = len(rows)
        out["live_s"], cards = timed(lambda: build_scorecards(s, start, end), repeat)
        out["scorecard_agents"] = len(cards)
    out["rollup"] = rollup_bench(db, start, end, repeat, cards)
    out["ratio_live"] = round(out["live_s"] / out["group_by_s"], 2)
    out["ratio_rolled"] = round(out["rollup"]["settled_month_s"] / out["group_by_s"], 2)
    out["targets"] = {"under_2s": max(out["rollup"]["settled_month_s"], out["rollup"]["open_month_s"]) < 2,
                      "within_3x": out["ratio_rolled"] <= 3}
    for key in ("group_by_s", "live_s"):
        out[key] = round(out[key], 3)
    out["export"] = export_bench(db, repeat)
    db.dispose()
    return out


def rollup_bench(db: Database, start, end, repeat: int, live_cards) -> dict:
    """The dashboard's path: the daily rollup built from scratch (once, then a day a day),
    then scorecards of the settled month from it, and of the month while it is still open:
    at 22:00 on its last day, with the days up to yesterday rolled up (the last three still in
    their repeat-call window, counted three hours before) and today counted from the rows."""
    ctx = SimpleNamespace(db=db, progress=lambda fraction, note="": None)
    settled = END + timedelta(days=4)
    t = time.perf_counter()
    built = refresh(ctx, rebuild=True, now=settled.isoformat())
    out = {"build_s": round(time.perf_counter() - t, 2), "days": built["days"], "cells": built["cells"]}
    out["build_per_day_s"] = round(out["build_s"] / max(built["days"], 1), 3)
    with db.session() as s:
        seconds, cards = timed(lambda: build_scorecards(s, start, end, rollup=True), repeat)
        out["settled_month_s"] = round(seconds, 3)
        out["same_as_live"] = [c.to_dict() for c in cards] == [c.to_dict() for c in live_cards]
    with db.session() as s:
        s.execute(delete(ScorecardDay).where(ScorecardDay.day >= (END - timedelta(days=4)).date()))
    counted_at = END - timedelta(hours=5)
    recount = refresh(ctx, now=counted_at.isoformat())          # what the worker's hourly refresh did
    out["open_month_recounted_days"] = recount["days"]
    with db.session() as s:
        seconds, cards = timed(lambda: build_scorecards(s, start, end, rollup=True), repeat)
        out["open_month_s"] = round(seconds, 3)
        out["open_month_same_as_live"] = [c.to_dict() for c in cards] == [c.to_dict() for c in live_cards]
    return out


def export_bench(db: Database, repeat: int) -> dict:
    """Lock the period holding the data, then time each format's export of the locked period."""
    key = period_key_for(END - timedelta(days=1))
    out: dict = {"period": key}
    with db.session() as s:
        try:
            after_end = period_bounds(key)[1] + timedelta(days=1)
            t = time.perf_counter()
            period = lock_period(s, key, "bench", now=after_end)
            out["lock_s"] = round(time.perf_counter() - t, 3)
            out["rows"] = len(period.snapshot["rows"])
            for fmt in EXPORT_FORMATS:
                seconds, result = timed(lambda: export_period(s, key, fmt, "bench"), repeat)
                out[fmt] = {"seconds": round(seconds, 3), "bytes": len(result.bytes)}
            out["target_under_1s"] = all(out[f]["seconds"] < 1 for f in EXPORT_FORMATS)
        finally:
            s.rollback()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/aftercall_bench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.repeat), indent=2))


if __name__ == "__main__":
    main()
