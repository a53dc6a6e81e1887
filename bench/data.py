"""Synthetic call-centre history bulk-loaded with COPY (never the ORM): the benchmark data set.

``generate`` writes agents, calls (one queue visit each), legs for handled calls and survey
answers for surveyed legs, deterministically from a seed. ``survey_ready`` writes calls whose
survey is running (leg ``survey_state='offered'``), the state the survey webhook expects.

    python -m bench.data --url postgresql://…/aftercall_bench --calls 1000000 --answers 300000

``generate_months`` (``--months``) writes the same shapes inside the server (generate_series,
hashes of the call's number for its draws), a month per statement into that month's partition:
10 million calls over 12 months load in minutes without passing through Python.

    python -m bench.data --name aftercall_bench10m --calls 10000000 --months 12
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg
from sqlalchemy import create_engine
from tqdm import tqdm

from store.db import upgrade
from store.partitions import ensure_months, month_start

QUEUES = ("billing", "tech", "sales", "general")
QUESTIONS = ("adequate", "satisfaction", "anything_else")
VERSION = "2026-11-v1"
END = datetime(2026, 11, 30, tzinfo=timezone.utc)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database(admin_url: str, name: str) -> str:
    """Drop and create ``name`` on the server of ``admin_url``, migrate it; returns its SQLAlchemy URL."""
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = libpq(admin_url).rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    return url


def _copy(conn, table: str, columns: tuple[str, ...], rows) -> int:
    n = 0
    total = len(rows) if isinstance(rows, list) else None
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy, \
            tqdm(total=total, desc=f"COPY {table}", unit="row", unit_scale=True, mininterval=1,
                 disable=total is None or total < 10_000) as bar:
        for row in rows:
            copy.write_row(row)
            n += 1
            if n % 10_000 == 0:
                bar.update(10_000)
        bar.update(n % 10_000)
    return n


def _agents(conn, n: int) -> list[str]:
    ids = [f"agent{i:04d}" for i in range(n)]
    now = END
    _copy(conn, "agents", ("id", "name", "team", "skills", "presence", "presence_changed_at", "active", "created_at"),
          ((a, f"Agent {i}", f"team{i % 20:02d}", '["billing", "tech", "sales", "general"]', "available", now, True, now)
           for i, a in enumerate(ids)))
    return ids


def generate(url: str, calls: int, answers: int, agents: int = 1000, days: int = 30, seed: int = 7) -> dict:
    """Load ``calls`` calls and about ``answers`` survey answers (3 per surveyed leg)."""
    rng = random.Random(seed)
    surveyed_every = max(1, round(calls * 0.85 / (answers / 3)))
    counts = {}
    with psycopg.connect(libpq(url)) as conn:
        ids = _agents(conn, agents)
        call_rows, entry_rows, leg_rows, answer_rows = [], [], [], []
        span = days * 86400
        leg_id = 0
        # In time order, as a live centre writes them: a day's calls share the table's pages.
        starts = sorted(END - timedelta(seconds=rng.randrange(span)) for _ in range(calls))
        for i in tqdm(range(calls), desc="generating calls", unit="call", unit_scale=True, mininterval=1):
            sid = f"CA{i:032x}"
            started = starts[i]
            duration = rng.randint(30, 900)
            caller = f"+1555{rng.randrange(200_000):07d}"   # repeats: first-contact resolution has work to do
            call_rows.append((sid, "AC0", caller, "+15559990000", "en", "1", False, "completed", 5, duration,
                              started, started + timedelta(seconds=duration), "twilio", started))
            queue = QUEUES[i % 4]
            agent = ids[rng.randrange(agents)]
            handled = rng.random() < 0.85
            wait = rng.randint(0, 300)
            entry_rows.append((i + 1, sid, 1, queue, "menu", 0, "left" if handled else "abandoned",
                               agent if handled else None, "leave" if handled else "hangup", wait, started))
            if handled:
                leg_id += 1
                surveyed = leg_id % surveyed_every == 0 and len(answer_rows) < answers
                ended_by = "agent" if surveyed or rng.random() < 0.5 else "caller"
                leg_rows.append((leg_id, sid, 1, i + 1, queue, agent, "en", wait, "completed", True,
                                 rng.randint(20, 800), ended_by, "finished" if surveyed else "not-offered",
                                 VERSION if surveyed else None, started, started + timedelta(seconds=duration)))
                if surveyed:
                    good = rng.random() < 0.8
                    for q, value in zip(QUESTIONS, (1 if good else 2, rng.randint(3, 5) if good else rng.randint(1, 3),
                                                    2 if rng.random() < 0.9 else 1)):
                        answer_rows.append((leg_id, sid, agent, VERSION, q, value, "answered", started))
        t0 = time.perf_counter()
        counts["calls"] = _copy(conn, "calls", ("sid", "account_sid", "from_number", "to_number", "language",
                                                "menu_key", "after_hours", "status", "status_seq", "duration",
                                                "started_at", "ended_at", "time_source", "created_at"), call_rows)
        counts["queue_entries"] = _copy(conn, "queue_entries", ("id", "call_sid", "visit", "queue", "reason",
                                                                "priority", "state", "agent_id", "result",
                                                                "wait_seconds", "created_at"), entry_rows)
        counts["legs"] = _copy(conn, "legs", ("id", "call_sid", "seq", "entry_id", "queue", "agent_id", "language",
                                              "queue_seconds", "dial_status", "bridged", "talk_seconds", "ended_by",
                                              "survey_state", "survey_version", "created_at", "ended_at"), leg_rows)
        counts["survey_answers"] = _copy(conn, "survey_answers", ("leg_id", "call_sid", "agent_id", "survey_version",
                                                                  "question", "value", "status", "created_at"),
                                         answer_rows)
        for table in ("queue_entries", "legs"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts["copy_seconds"] = round(time.perf_counter() - t0, 1)
    return counts


# One month of calls [:lo, :hi) by number, all four tables; h(k) is the call's k-th draw.
_MONTH = """
CREATE TEMP TABLE batch ON COMMIT DROP AS
SELECT i, 'CA' || lpad(to_hex(i), 32, '0') AS sid,
       %(start)s + make_interval(secs => (i * %(step)s)::float8) AS started,
       30 + mod(abs(hashint8extended(i, %(seed)s + 2)), 871) AS duration,
       '+1555' || lpad((mod(abs(hashint8extended(i, %(seed)s + 1)), 200000))::text, 7, '0') AS caller,
       (ARRAY['billing', 'tech', 'sales', 'general'])[mod(i, 4) + 1] AS queue,
       'agent' || lpad((mod(abs(hashint8extended(i, %(seed)s + 5)), %(agents)s))::text, 4, '0') AS agent,
       mod(abs(hashint8extended(i, %(seed)s + 3)), 100) < 85 AS handled,
       mod(abs(hashint8extended(i, %(seed)s + 6)), 100000) < %(surveyed)s AS surveyed,
       mod(abs(hashint8extended(i, %(seed)s + 7)), 100) < 80 AS good,
       mod(abs(hashint8extended(i, %(seed)s + 4)), 301) AS wait
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS i;
INSERT INTO calls (sid, account_sid, from_number, to_number, language, menu_key, after_hours, status, status_seq,
                   duration, started_at, ended_at, time_source, created_at)
SELECT sid, 'AC0', caller, '+15559990000', 'en', '1', false, 'completed', 5, duration, started,
       started + make_interval(secs => duration), 'twilio', started FROM batch;
INSERT INTO queue_entries (id, call_sid, visit, queue, reason, priority, state, agent_id, result, wait_seconds,
                           created_at)
SELECT i + 1, sid, 1, queue, 'menu', 0, CASE WHEN handled THEN 'left' ELSE 'abandoned' END,
       CASE WHEN handled THEN agent END, CASE WHEN handled THEN 'leave' ELSE 'hangup' END, wait, started FROM batch;
INSERT INTO legs (id, call_sid, seq, entry_id, queue, agent_id, language, queue_seconds, dial_status, bridged,
                  talk_seconds, ended_by, survey_state, survey_version, created_at, ended_at)
SELECT i + 1, sid, 1, i + 1, queue, agent, 'en', wait, 'completed', true,
       20 + mod(abs(hashint8extended(i, %(seed)s + 8)), 781),
       CASE WHEN surveyed OR mod(i, 2) = 0 THEN 'agent' ELSE 'caller' END,
       CASE WHEN surveyed THEN 'finished' ELSE 'not-offered' END, CASE WHEN surveyed THEN %(version)s END,
       started, started + make_interval(secs => duration) FROM batch WHERE handled;
INSERT INTO survey_answers (leg_id, call_sid, agent_id, survey_version, question, value, status, created_at)
SELECT i + 1, sid, agent, %(version)s, q.question,
       CASE q.question WHEN 'adequate' THEN CASE WHEN good THEN 1 ELSE 2 END
                       WHEN 'satisfaction' THEN CASE WHEN good THEN 3 + mod(i, 3) ELSE 1 + mod(i, 3) END
                       ELSE CASE WHEN mod(i, 10) = 0 THEN 1 ELSE 2 END END,
       'answered', started
FROM batch CROSS JOIN (VALUES ('adequate'), ('satisfaction'), ('anything_else')) AS q (question)
WHERE handled AND surveyed;
"""


def generate_months(url: str, calls: int, answers: int, agents: int = 1000, months: int = 12, seed: int = 7) -> dict:
    """Load ``calls`` calls evenly over the ``months`` months ending at ``END``, generated by the
    server a month at a time (its partition created first), about ``answers`` answers."""
    first = month_start(END, 1 - months)
    span = (END - first).total_seconds()
    step = span / calls
    surveyed = round(100_000 * answers / 3 / (calls * 0.85))
    t0 = time.perf_counter()
    with psycopg.connect(libpq(url)) as conn:
        _agents(conn, agents)
        conn.commit()
    engine = create_engine(url)
    with engine.begin() as sa_conn:
        ensure_months(sa_conn, first, months)
    engine.dispose()
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        for m in range(months):
            lo_t, hi_t = month_start(first, m), min(month_start(first, m + 1), END)
            lo = int(-(-(lo_t - first).total_seconds() // step))
            hi = min(calls, int(-(-(hi_t - first).total_seconds() // step)))
            t = time.perf_counter()
            psycopg.ClientCursor(conn).execute(_MONTH, {"start": first, "step": step, "seed": seed, "agents": agents,
                                                        "surveyed": surveyed, "lo": lo, "hi": hi, "version": VERSION})
            conn.commit()
            print(f"{lo_t:%Y-%m}: {hi - lo:,} calls in {time.perf_counter() - t:.0f} s "
                  f"({hi:,} of {calls:,}, {time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        for table in ("queue_entries", "legs"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("calls", "queue_entries", "legs", "survey_answers")}
        counts["size"] = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    counts["load_seconds"] = round(time.perf_counter() - t0, 1)
    return counts


def survey_ready(url: str, n: int, prefix: str = "CAbench") -> list[tuple[str, int]]:
    """``n`` calls whose first survey question is being asked; returns (CallSid, leg id) pairs."""
    with psycopg.connect(libpq(url)) as conn:
        if conn.execute("SELECT count(*) FROM agents WHERE id = 'benchagent'").fetchone()[0] == 0:
            conn.execute("INSERT INTO agents (id, name, team, skills, presence, presence_changed_at, active, created_at)"
                         " VALUES ('benchagent', 'Bench', 'bench', '[\"billing\"]', 'busy', now(), true, now())")
        base_entry = conn.execute("SELECT coalesce(max(id), 0) FROM queue_entries").fetchone()[0]
        base_leg = conn.execute("SELECT coalesce(max(id), 0) FROM legs").fetchone()[0]
        now = datetime.now(timezone.utc)
        sids = [f"{prefix}{i:024d}" for i in range(n)]
        _copy(conn, "calls", ("sid", "account_sid", "from_number", "to_number", "language", "after_hours", "status",
                              "started_at", "time_source", "created_at"),
              ((sid, "AC0", "+15550001111", "+15559990000", "en", False, "in-progress", now, "server", now)
               for sid in sids))
        _copy(conn, "queue_entries", ("id", "call_sid", "visit", "queue", "reason", "priority", "state", "agent_id",
                                      "created_at"),
              ((base_entry + i + 1, sid, 1, "billing", "menu", 0, "left", "benchagent", now)
               for i, sid in enumerate(sids)))
        _copy(conn, "legs", ("id", "call_sid", "seq", "entry_id", "queue", "agent_id", "language", "bridged",
                             "talk_seconds", "ended_by", "survey_state", "survey_version", "created_at"),
              ((base_leg + i + 1, sid, 1, base_entry + i + 1, "billing", "benchagent", "en", True, 100, "agent",
                "offered", VERSION, now) for i, sid in enumerate(sids)))
        for table in ("queue_entries", "legs"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return [(sid, base_leg + i + 1) for i, sid in enumerate(sids)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--name", default="aftercall_bench")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=300_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--months", type=int, help="generate in the server over this many months to END"
                                                   " (answers: 0.3 per call unless --answers is given)")
    args = parser.parse_args()
    url = create_database(args.admin_url, args.name)
    if args.months:
        answers = args.answers if args.answers != parser.get_default("answers") else round(args.calls * 0.3)
        print(url, generate_months(url, args.calls, answers, args.agents, args.months), flush=True)
    else:
        print(url, generate(url, args.calls, args.answers, args.agents))


if __name__ == "__main__":
    main()
