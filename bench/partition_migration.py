"""Migration 0022 on a populated database, with the call centre still writing.

Creates a database at revision 0021 (plain ``calls``), loads it with ``bench.data``'s server-side
generator, then runs ``upgrade head`` while a writer inserts a call every 10 ms the way the
first webhook of a call does (``store.calls.insert_call``). Reports each statement of the
migration that took over 10 ms, the migration's total, the writer's slowest insert (how long
the migration held writers up) and that no row was lost.

    python -m bench.partition_migration --calls 1000000
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bench.data import generate_months, libpq
from store.calls import insert_call
from store.db import Database, upgrade


def _database(admin_url: str, name: str) -> str:
    import psycopg
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = libpq(admin_url).rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url, "0021")
    return url


def run(admin_url: str, name: str, calls: int) -> dict:
    url = _database(admin_url, name)
    out: dict = {"calls": calls, "load": generate_months(url, calls, round(calls * 0.3), months=12)}
    db = Database(url)
    slow: list = []
    started: dict = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        if threading.current_thread() is threading.main_thread() and took > 0.01:
            slow.append({"seconds": round(took, 3), "statement": " ".join(statement.split())[:110]})

    stop, waits = threading.Event(), []

    def writer():
        n = 0
        while not stop.is_set():
            t = time.perf_counter()
            with db.session() as s:
                insert_call(s, {"sid": f"CAduring{n:08d}"})
            waits.append(time.perf_counter() - t)
            n += 1
            time.sleep(0.01)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(1)
    t = time.perf_counter()
    upgrade(url)
    out["migration_s"] = round(time.perf_counter() - t, 2)
    time.sleep(1)
    stop.set()
    thread.join()
    event.remove(Engine, "before_cursor_execute", before)
    event.remove(Engine, "after_cursor_execute", after)
    out["statements_over_10ms"] = slow
    out["writer"] = {"inserts": len(waits), "slowest_s": round(max(waits), 3),
                     "median_ms": round(sorted(waits)[len(waits) // 2] * 1000, 2)}
    with db.engine.connect() as conn:
        out["rows_after"] = conn.scalar(text("SELECT count(*) FROM calls"))
        out["rows_expected"] = calls + len(waits)
        out["partitions"] = dict(conn.execute(text(
            "SELECT tableoid::regclass::text, count(*) FROM calls GROUP BY 1 ORDER BY 1")).all())
    out["load_average"] = os.getloadavg()
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--name", default="aftercall_bench_migrate")
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    print(json.dumps(run(args.admin_url, args.name, args.calls), indent=2, default=str))


if __name__ == "__main__":
    main()
