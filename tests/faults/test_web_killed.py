"""A gunicorn worker SIGKILLed under load: every survey answer Twilio got a 200 for is stored.

A real gunicorn (2 workers) on loopback serves the app on PostgreSQL; 16 client threads post
distinct signed survey answers while one worker is killed mid-run. An answer is committed
(or fsynced to the spool) before the 200 leaves, so the set of 200s must be a subset of
what the database holds once the spool is replayed.
"""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bench.data import survey_ready
from bench.servers import free_port, gunicorn, worker_pids
from store.calls import SurveyAnswer
from survey.spool import AnswerSpool
from tests.conftest import AUTH_TOKEN, postgresql_only

LEGS = 150


@postgresql_only   # the multi-process server runs on PostgreSQL
def test_no_answer_with_a_200_is_lost_when_a_worker_dies(database, tmp_path):
    legs = survey_ready(database.url, LEGS)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    validator = RequestValidator(AUTH_TOKEN)
    spool_dir = tmp_path / "spool"
    env = {"DATABASE_URL": database.url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "t",
           "ANSWER_SPOOL_DIR": str(spool_dir)}
    acked, failed, killed = set(), [], []
    done = threading.Event()
    with gunicorn("aftercall:create_app()", env, workers=2, threads=2, port=port) as (_, master):
        def answer(item):
            sid, leg = item
            url = f"/voice/survey?leg={leg}&q=1&attempt=1&lang=en"
            params = {"CallSid": sid, "Digits": str(leg % 5 + 1), "CallStatus": "in-progress"}
            headers = {"X-Twilio-Signature": validator.compute_signature(base + url, params),
                       "Content-Type": "application/x-www-form-urlencoded"}
            try:
                with httpx.Client(timeout=10) as client:
                    resp = client.post(base + url, content=urlencode(params), headers=headers)
            except httpx.TransportError as exc:   # the killed worker's in-flight requests: no 200
                failed.append(repr(exc))
                return
            if resp.status_code == 200 and b"<Response>" in resp.content:
                acked.add((leg, int(params["Digits"])))
            if len(acked) == LEGS // 3:
                done.set()

        def killer():
            done.wait(30)
            victim = worker_pids(master)[0]
            os.kill(victim, signal.SIGKILL)
            killed.append((victim, len(acked)))

        k = threading.Thread(target=killer)
        k.start()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(answer, legs))
        k.join()
    AnswerSpool(spool_dir).replay(database)
    with database.session() as s:
        stored = {(a.leg_id, a.value) for a in s.scalars(select(SurveyAnswer).where(
            SurveyAnswer.question == "satisfaction"))}
    print(f"killed {killed}, {len(acked)} acked, {len(failed)} transport errors")
    assert killed and killed[0][1] < LEGS and len(acked) >= LEGS // 3
    assert acked <= stored, f"lost: {sorted(acked - stored)[:10]}"
    assert len(stored) == len({leg for leg, _ in stored})   # one answer per leg, no double counts
