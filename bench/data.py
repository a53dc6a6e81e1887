"""Synthetic call-centre history bulk-loaded with COPY (never the ORM): the benchmark data set.

``generate`` writes agents, calls (one queue visit each), legs for handled calls and survey
answers for surveyed legs, deterministically from a seed. ``survey_ready`` writes calls whose
survey is running (leg ``survey_state='offered'``), the state the survey webhook expects.

    python -m bench.data --url postgresql://…/aftercall_bench --calls 1000000 --answers 300000
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta, timezone

import psycopg
from tqdm import tqdm

from store.db import upgrade

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
    args = parser.parse_args()
    url = create_database(args.admin_url, args.name)
    print(url, generate(url, args.calls, args.answers, args.agents))


if __name__ == "__main__":
    main()
