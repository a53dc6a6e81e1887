"""Outbound pacing: every create waits for its slot of the account's calls a second or the
sender's messages a second, in buckets every worker process shares through Redis (or, with
no Redis, the process's own), so a REST stand-in that answers 429 above the rate never does,
and a burst of due follow-ups is spread, none lost, none sent twice."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from aftercall.config import UNPACED, Settings
from aftercall.followups import pacer, setup, tick
from emulator.twilio_rest import FakeTwilioRest
from outbound.pacing import LocalBuckets, Pacer, RedisBuckets
from outbound.twilio_rest import TwilioDialer, TwilioSender
from store.followups import Followup
from store.jobs import Job
from survey.followups import SendError
from tests.conftest import AUTH_TOKEN, BASE, REDIS_URL, make_settings, postgresql_only
from tests.followups.test_followups import T0
from tests.outcomes.builder import agents, call, handled

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "5" * 32


def _from() -> str:
    """A sender of its own: the buckets in the shared Redis are keyed by sender."""
    return f"+1500{uuid.uuid4().int % 10**7:07d}"


def _sender(rest, from_, pacer=None) -> TwilioSender:
    return TwilioSender(ACCOUNT, AUTH_TOKEN, from_number=from_, base_url=rest.url, pacer=pacer)


def _sms_burst(sender, n: int, threads: int = 8) -> list:
    def one(i):
        try:
            return sender.send_sms(to=f"+1555{i:07d}", body="hi", status_callback=BASE + "/sms/status")
        except SendError as exc:
            return exc
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(n)))


def _refused(rest) -> list:
    return [r for r in rest.requests if r[2] == 429]


def test_the_stand_in_refuses_an_unpaced_burst():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, limits={"message": 20}) as rest:
        got = _sms_burst(_sender(rest, _from()), 40)
    assert any(isinstance(g, SendError) and g.status == 429 for g in got)
    assert _refused(rest)


def test_one_process_paces_its_threads_without_redis():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, limits={"message": 40}) as rest:
        sender = _sender(rest, _from(), Pacer(LocalBuckets(), {"message": 40}, max_wait_s=10))
        got = _sms_burst(sender, 80)
    assert not [g for g in got if isinstance(g, SendError)]
    assert _refused(rest) == []
    assert len({m.to for m in rest.sent("message")}) == 80


def test_follow_up_calls_and_click_to_call_share_the_accounts_cps():
    bucket = RedisBuckets(Redis.from_url(REDIS_URL), prefix=f"test-pace-{uuid.uuid4().hex}:")
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, limits={"call": 30}) as rest:
        sender = _sender(rest, _from(), Pacer(bucket, {"call": 30}, max_wait_s=10))
        dialer = TwilioDialer(sender)

        def one(i):
            if i % 2:
                return dialer.ring(to=f"client:sup{i}", url=BASE + "/a", status_callback=BASE + "/s")
            return sender.start_call(to=f"+1555{i:07d}", url=BASE + "/a", status_callback=BASE + "/s")
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(one, range(60)))
    assert len({sid for sid, _ in got}) == 60
    assert _refused(rest) == []


def test_a_slot_too_far_ahead_is_a_retryable_429_that_creates_nothing():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN) as rest:
        sender = _sender(rest, _from(), Pacer(LocalBuckets(), {"message": 0.1}, max_wait_s=1))
        sender.send_sms(to="+15550000001", body="hi", status_callback=BASE + "/sms/status")
        with pytest.raises(SendError) as refused:
            sender.send_sms(to="+15550000002", body="hi", status_callback=BASE + "/sms/status")
    assert refused.value.retryable and not refused.value.ambiguous and refused.value.status == 429
    assert [m.to for m in rest.sent("message")] == ["+15550000001"]
    assert len(rest.requests) == 1


def test_the_rates_come_from_the_environment(database):
    settings = make_settings(database, TWILIO_CALLS_PER_SECOND="2.5", TWILIO_MESSAGES_PER_SECOND="30")
    assert pacer(settings).rates == {"call": 2.5, "message": 30.0}
    defaults = Settings.from_env({})
    assert (defaults.calls_per_second, defaults.messages_per_second) == (1.0, 1.0)   # Twilio's defaults
    with pytest.raises(ValueError, match="TWILIO_CALLS_PER_SECOND"):
        Settings.from_env({"TWILIO_CALLS_PER_SECOND": "fast"})
    with pytest.raises(ValueError, match="TWILIO_MESSAGES_PER_SECOND"):
        Settings.from_env({"TWILIO_MESSAGES_PER_SECOND": "-1"})


def _two_workers(env: dict, *argvs: list[str]) -> list[dict]:
    """Run ``tests.outbound.paced_worker`` once per argv, at the same time; what each printed."""
    proc_env = {**os.environ, **UNPACED, **env, "SECRET_KEY": "t", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-m", "tests.outbound.paced_worker", *argv], cwd=ROOT,
                                env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for argv in argvs]
    outs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0] * len(workers), [err[-2000:] for _, err in outs]
    return [ast.literal_eval(out.strip().splitlines()[-1]) for out, _ in outs]


def test_two_processes_sharing_redis_share_the_senders_rate():
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, limits={"message": 40}) as rest:
        env = {"REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_FROM_NUMBER": _from(),
               "TWILIO_API_BASE_URL": rest.url, "TWILIO_MESSAGES_PER_SECOND": "40"}
        outs = _two_workers(env, ["sms", "0", "200", "8"], ["sms", "200", "200", "8"])
        created = rest.sent("message")
    assert outs == [{"sent": 200}, {"sent": 200}]
    assert _refused(rest) == []
    assert len({m.to for m in created}) == 400


BURST = 1000
RATE = 25   # messages a second: the burst takes 40 s or more


@postgresql_only   # two worker processes on one database
def test_a_burst_of_due_follow_ups_is_spread_by_two_workers_sharing_redis(database):
    from_ = _from()
    with database.session() as s:
        agents(s, "ann")
        for i in range(BURST):
            call(s, T0, number=f"+1555{i:07d}", visits=[{**handled("ann", ended_by="caller"), "queue": "billing"}])
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, limits={"message": RATE}) as rest:
        env = {"DATABASE_URL": database.url, "REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": ACCOUNT,
               "TWILIO_FROM_NUMBER": from_, "TWILIO_API_BASE_URL": rest.url, "PUBLIC_BASE_URL": BASE,
               "TWILIO_MESSAGES_PER_SECOND": str(RATE)}
        settings = make_settings(database, **env)
        now = T0 + timedelta(minutes=20)
        queued = []
        while batch := tick(database, setup(settings), now):   # the scheduler queues a batch a tick
            queued += batch
        assert len(queued) == BURST
        with database.session() as s:   # each job sends at the test's "now" (outside quiet hours)
            for job in s.scalars(select(Job)):
                job.kwargs = {**job.kwargs, "now": now.isoformat()}
        outs = _two_workers(env, ["jobs", "0", "6"], ["jobs", "1", "6"])
        created = rest.sent("message")
        refused = _refused(rest)
    assert refused == []
    assert len(created) == BURST and len({m.to for m in created}) == BURST      # none lost, none twice
    with database.session() as s:
        rows = s.execute(select(Followup.state, Followup.twilio_sid)).all()
    assert {state for state, _ in rows} == {"sent"}
    assert {sid for _, sid in rows} == {m.sid for m in created}
    assert all(out.get("done") for out in outs), outs          # both processes sent some
    assert sum(out.get("done", 0) for out in outs) == BURST   # and each job ran once
