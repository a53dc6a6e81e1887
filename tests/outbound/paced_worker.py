"""A worker process of ``test_pacing``, with the settings of its environment, as a worker has.

``jobs SEED THREADS``: runs every pending job through the job runner (``aftercall.jobs.run``:
claim, run, record) from several threads, in its own order; prints the states it saw.
``sms FIRST COUNT THREADS``: sends COUNT messages (to +1555 FIRST…) through the app's sender
as fast as its threads go; prints how many were refused."""
from __future__ import annotations

import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from aftercall import jobs
from aftercall.config import Settings
from aftercall.followups import sender
from store.db import Database
from store.jobs import Job
from survey.followups import SendError


def run_jobs(seed: str, threads: int) -> dict:
    db = Database(os.environ["DATABASE_URL"])
    with db.session() as s:
        ids = list(s.scalars(select(Job.id).where(Job.state == "pending")))
    random.Random(seed).shuffle(ids)
    with ThreadPoolExecutor(threads) as pool:
        states = list(pool.map(lambda job_id: jobs.run(db, job_id), ids))
    return {state: states.count(state) for state in set(states)}


def send_sms(first: int, count: int, threads: int) -> dict:
    out = sender(Settings.from_env())

    def one(i):
        try:
            out.send_sms(to=f"+1555{i:07d}", body="hi", status_callback="http://localhost/sms/status")
            return "sent"
        except SendError as exc:
            return str(exc.status)
    with ThreadPoolExecutor(threads) as pool:
        states = list(pool.map(one, range(first, first + count)))
    return {state: states.count(state) for state in set(states)}


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    print(run_jobs(args[0], int(args[1])) if mode == "jobs" else send_sms(*map(int, args)))
