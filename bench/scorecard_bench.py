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

At 10 million calls over 12 monthly partitions (``python -m bench.data --name aftercall_bench10m
--calls 10000000 --months 12``), ``--month 2026-11`` times that calendar month instead of the last
30 days, and ``--explain`` adds which partitions of ``calls`` each statement of those
scorecards reads (from EXPLAIN of the statements as they ran: pruning is the point).

    python -m bench.scorecard_bench --url …/aftercall_bench10m --month 2026-11 --explain --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import delete, event, text

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


def run(url: str, repeat: int = 3, days: int = 30, month: str | None = None, explain: bool = False,
        rebuild: bool = True) -> dict:
    db = Database(url)
    start, end = END - timedelta(days=days), END + timedelta(seconds=1)
    out: dict = {"load_average": os.getloadavg()}
    if month:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
        out["calls_in_database"] = db.engine.connect().execute(text("SELECT count(*) FROM calls")).scalar()
    out["range"] = [start.isoformat(), end.isoformat()]
    if explain:
        out["partitions_read"] = partitions_read(db, start, end)
    with db.session() as s:
        out["group_by_s"], rows = timed(lambda: s.execute(GROUP_BY, {"start": start, "end": end}).all(), repeat)
        out["agents"] = len(rows)
        out["live_s"], cards = timed(lambda: build_scorecards(s, start, end), repeat)
        out["scorecard_agents"] = len(cards)
    out["rollup"] = rollup_bench(db, start, end, repeat, cards, explain, rebuild)
    out["ratio_live"] = round(out["live_s"] / out["group_by_s"], 2)
    out["ratio_rolled"] = round(out["rollup"]["settled_month_s"] / out["group_by_s"], 2)
    out["targets"] = {"under_2s": max(out["rollup"]["settled_month_s"], out["rollup"]["open_month_s"]) < 2,
                      "within_3x": out["ratio_rolled"] <= 3}
    for key in ("group_by_s", "live_s"):
        out[key] = round(out[key], 3)
    out["export"] = export_bench(db, repeat) if not month else "skipped (--month)"
    out["load_average_after"] = os.getloadavg()
    db.dispose()
    return out


@contextmanager
def _statements(db: Database):
    seen: list = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if not executemany and not statement.startswith("EXPLAIN") and re.search(r"\bcalls\b", statement):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def partitions_read(db: Database, start, end) -> dict:
    """Partitions of ``calls`` in the plan of each statement reading calls, for the GROUP BY
    and the scorecards counted from the rows (the open month's: ``rollup_bench``)."""
    out = {}
    with db.session() as s, _statements(db) as seen:
        s.execute(GROUP_BY, {"start": start, "end": end}).all()
        out["group_by"] = _plans(db, seen)
        seen.clear()
        build_scorecards(s, start, end)
        out["from_rows"] = _plans(db, seen)
    return out


def _plans(db: Database, statements) -> list[list[str]]:
    """One sorted list of partitions per statement (deduplicated). A plan naming more than two
    prunes at run time (a bound from an outer row): it is run (EXPLAIN ANALYZE) and only the
    partitions it scanned count, the others showing "never executed"."""
    found = set()
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            if len(set(re.findall(r" on (calls_\w+)", plan))) > 2:
                plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE) " + statement, parameters)
                                  if "never executed" not in r[0])
            found.add(tuple(sorted(set(re.findall(r" on (calls_\w+)", plan)))))
        conn.rollback()
    return sorted(list(f) for f in found)


def rollup_bench(db: Database, start, end, repeat: int, live_cards, explain: bool = False,
                 rebuild: bool = True) -> dict:
    """The dashboard's path: the daily rollup built from scratch (once, then a day a day),
    then scorecards of the settled month from it, and of the month while it is still open:
    at 22:00 on its last day, with the days up to yesterday rolled up (the last three still in
    their repeat-call window, counted three hours before) and today counted from the rows."""
    ctx = SimpleNamespace(db=db, progress=lambda fraction, note="": None)
    settled = END + timedelta(days=4)
    t = time.perf_counter()
    built = refresh(ctx, rebuild=rebuild, now=settled.isoformat())
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
        if explain:
            with _statements(db) as seen:
                build_scorecards(s, start, end, rollup=True)
                out["open_month_partitions_read"] = _plans(db, seen)
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
    parser.add_argument("--month", help="YYYY-MM: time this month to the data's end instead of the last 30 days")
    parser.add_argument("--explain", action="store_true", help="report the partitions each statement reads")
    parser.add_argument("--keep-rollup", action="store_true",
                        help="a second run: add only the rollup's missing days instead of rebuilding it")
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.repeat, month=args.month, explain=args.explain, rebuild=not args.keep_rollup),
                     indent=2, default=str))


if __name__ == "__main__":
    main()
