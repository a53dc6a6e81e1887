"""A PostgreSQL outage in the middle of N calls, measured: what Twilio says meanwhile is kept
and applied once when the database is back; every fact is then checked against the script.

    python -m bench.outage_proof --calls 300 --threads 8

A scratch PostgreSQL database (migrated), the app reaching it through a TCP proxy owned by
this run (``tests/faults/proxy.py``: the shared server is never stopped), N agents, N calls
put through to them. The proxy goes down; each call then ends one of three ways (the agent
hangs up and the caller answers the survey; the caller hangs up; the caller hangs up and the
Dial action never comes), every webhook delivered twice with probability ``--dup``. The proxy
comes back; new calls' webhooks replay it, each for ``WEB_REPLAY_SECONDS`` at most. Checks: every response 200 with a ``<Response>``,
every answer stored once, every leg ended, every agent free, no queue entry open, every call
completed with Twilio's duration.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from sqlalchemy import func, select

from aftercall.app import create_app
from aftercall.config import Settings
from callflow.agents import create_agent
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer
from store.db import Database, upgrade
from tests.conftest import AUTH_TOKEN, TwilioClient
from tests.faults.proxy import TcpProxy
from tests.voice.driver import ScriptedCall

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class Twice(ScriptedCall):
    """A scripted caller whose webhooks Twilio sometimes delivers twice."""

    def __init__(self, twilio, sid, rng: random.Random, dup: float, seen: list):
        super().__init__(twilio, sid)
        self.rng, self.dup, self.seen = rng, dup, seen

    def post(self, url, **params):
        doc = super().post(url, **params)
        self.seen.append(1)
        if self.rng.random() < self.dup:
            again = super().post(url, **params)
            self.seen.append(1)
            assert ET.tostring(again) is not None
        return doc


def run(calls: int, threads: int, dup: float, seed: int) -> dict:
    name = f"aftercall_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    proxy = TcpProxy("127.0.0.1", 5432)
    port = proxy.up()
    try:
        upgrade(url)
        truth_db, app_db = Database(url), Database(url.replace(":5432/", f":{port}/") + "?connect_timeout=2")
        with TemporaryDirectory() as tmp:
            settings = Settings.from_env({"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                          "ANSWER_SPOOL_DIR": str(Path(tmp) / "spool")})
            app = create_app(settings, db=app_db)
            with truth_db.session() as s:
                for i in range(calls):
                    create_agent(s, {"id": f"a{i}", "skills": ["billing", "general"], "presence": "available"},
                                 app.config["MENU"].queues)
            seen: list = []
            rng = random.Random(seed)
            scripts = [(Twice(TwilioClient(app.test_client()), f"CAo{i}", random.Random(rng.random()), dup, seen), i)
                       for i in range(calls)]
            with ThreadPoolExecutor(threads) as pool:
                dials = list(pool.map(lambda c: c[0].to_agent(), scripts))
            busy = _count(truth_db, Agent, Agent.presence == "busy")

            def during(pair):
                (call, i), dial = pair
                if i % 3 == 0:
                    call.end_dial(dial, agent_hung_up=True)
                    for digits in ("1", "4", "2"):
                        call.press(digits)
                elif i % 3 == 1:
                    call.end_dial(dial, agent_hung_up=False)
                call.status(duration=100 + i)

            proxy.down()
            started = len(seen)
            t0 = time.monotonic()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(during, zip(scripts, dials)))
            outage_s = time.monotonic() - t0
            during_requests = len(seen) - started
            kept = sum(1 for p in Path(tmp, "spool").glob("answers-*") for _ in p.open())
            proxy.up()
            # Calls come in again; each webhook replays for WEB_REPLAY_SECONDS at most, then answers.
            t1, slowest, after = time.monotonic(), 0.0, 0
            while any(Path(tmp, "spool").glob("answers-*")) or any(Path(tmp, "spool").glob("claimed-*")):
                t = time.monotonic()
                ScriptedCall(TwilioClient(app.test_client()), f"CAafter{after}").incoming()
                slowest, after = max(slowest, time.monotonic() - t), after + 1
            replay_s = time.monotonic() - t1
            with truth_db.session() as s:
                stored = s.execute(select(SurveyAnswer.call_sid, func.count()).group_by(SurveyAnswer.call_sid)).all()
                finished = dict(s.execute(select(Call.sid, Call.duration).where(Call.status == "completed")).all())
            result = {
                "calls": calls, "threads": threads, "duplicate_rate": dup,
                "agents_busy_before": busy,
                "webhooks_during_outage": during_requests, "outage_seconds": round(outage_s, 1),
                "records_kept": kept, "replay_seconds": round(replay_s, 2), "webhooks_to_drain": after,
                "slowest_webhook_while_replaying_s": round(slowest, 2),
                "answers_expected": 3 * len(range(0, calls, 3)),
                "answers_stored": sum(n for _, n in stored),
                "answers_doubled": sum(1 for _, n in stored if n != 3),
                "legs_open": _count(truth_db, Leg, Leg.ended_at.is_(None)),
                "agents_busy_after": _count(truth_db, Agent, Agent.presence == "busy"),
                "entries_open": _count(truth_db, QueueEntry, QueueEntry.state.in_(["waiting", "reserved"])),
                "calls_wrong": sum(1 for i in range(calls) if finished.get(f"CAo{i}") != 100 + i),
                "spool_left": sum(1 for p in Path(tmp, "spool").iterdir() if not p.name.startswith("rejected")),
            }
        truth_db.dispose()
        app_db.dispose()
        return result
    finally:
        proxy.down()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _count(db: Database, model, where) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(where))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--dup", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    logging.getLogger("webhooks").setLevel(logging.CRITICAL)   # one line per failed webhook: thousands
    result = run(args.calls, args.threads, args.dup, args.seed)
    print(json.dumps(result, indent=1))
    bad = {k: result[k] for k in ("answers_doubled", "legs_open", "agents_busy_after", "entries_open",
                                  "calls_wrong", "spool_left") if result[k]}
    if bad or result["answers_stored"] != result["answers_expected"]:
        raise SystemExit(f"FAILED: {bad}")


if __name__ == "__main__":
    main()
