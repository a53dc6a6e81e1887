"""Benchmarks 2 and 3: scorecards over 1M calls / 300k answers against one GROUP BY, and the bonus export.

Run ``python -m bench.data`` first (it loads ``aftercall_bench``). The baseline is a single
pass over the same rows (legs ⋈ calls ⟕ answers, grouped by agent) computing the raw counts
a scorecard starts from; the scorecard adds case-mix cells, first-contact resolution and the
statistics. Each is timed several times; the median is reported, with the ratio.

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

from sqlalchemy import text

from bench.data import END
from scoring.exports import export_period
from scoring.periods import lock_period, period_bounds, period_key_for
from store.db import Database
from store.payroll import EXPORT_FORMATS

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
    try:
        from scoring.scorecard import build_scorecards
    except ImportError as exc:  # written by another engineer; report rather than fail
        out["scorecards"] = f"unavailable: {exc}"
    else:
        with db.session() as s:
            out["scorecards_s"], cards = timed(lambda: build_scorecards(s, start, end), repeat)
        out["scorecard_agents"] = len(cards)
        out["ratio"] = round(out["scorecards_s"] / out["group_by_s"], 2)
        out["targets"] = {"under_2s": out["scorecards_s"] < 2, "within_3x": out["ratio"] <= 3}
    for key in ("group_by_s", "scorecards_s"):
        if key in out:
            out[key] = round(out[key], 3)
    out["export"] = export_bench(db, repeat)
    db.dispose()
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
