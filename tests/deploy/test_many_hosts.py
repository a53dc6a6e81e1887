"""Many boxes: two web hosts (two gunicorn instances on their own ports) and two workers (two
``flask worker`` processes, RQ) over one PostgreSQL and one Redis. A load balancer stand-in
sends every request of the emulated Twilio — each webhook, each duplicate delivery, each
retry after a lost response — to either host at random. Then: every call, leg and answer
equals the emulator's truth, stored once (``aftercall.ground_truth``); every follow-up the
workers sent went out once; every call-back task owed was opened, once."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qs

import httpx
from sqlalchemy import func, select

from aftercall.callbacks import sweep
from aftercall.config import Settings
from aftercall.ground_truth import reconcile
from bench.servers import gunicorn
from callflow.agents import create_agent
from emulator import HttpConsole, Target, load_scenario, run
from emulator.twilio_rest import FakeTwilioRest
from ivr.menu import load_menu
from store.accounts import ApiToken, hash_token
from store.callbacks import CallbackTask, CallerCheck
from store.db import Database
from store.followups import Followup
from store.jobs import Job
from survey.definition import load_survey
from tests.conftest import AUTH_TOKEN, REDIS_URL, postgresql_only

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "http://aftercall.example"   # what Twilio requests and signs; the balancer picks the host
ACCOUNT = "AC" + "6" * 32
FROM = "+15005550006"
CALLS = 100


class Balancer(httpx.HTTPTransport):
    """Each request to one of the hosts at random, whatever call it belongs to (a retry too)."""

    def __init__(self, ports: list[int], seed: int, **kwargs):
        super().__init__(**kwargs)
        self.ports, self.rng, self.lock = ports, random.Random(seed), threading.Lock()
        self.hits: Counter = Counter()
        self.hosts_of_call: dict[str, set[int]] = defaultdict(set)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        call_sid = parse_qs(request.content.decode(errors="replace")).get("CallSid", [""])[0]
        with self.lock:
            port = self.rng.choice(self.ports)
            self.hits[port] += 1
            if call_sid:
                self.hosts_of_call[call_sid].add(port)
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
        return super().handle_request(request)


class PreseededConsole:
    """The agents exist and are available before the first call; presence changes go to the app."""

    def __init__(self, console: HttpConsole):
        self.console, self.errors = console, console.errors

    def register(self, spec):
        return None

    def presence(self, agent_id, presence):
        return self.console.presence(agent_id, presence)


@contextlib.contextmanager
def workers(env: dict, count: int, log_dir: Path):
    procs = []
    try:
        for n in range(count):
            log = (log_dir / f"worker-{n}.log").open("wb")
            procs.append((subprocess.Popen([str(Path(sys.executable).with_name("flask")), "--app", "aftercall",
                                            "worker"], cwd=ROOT, env=env, stdout=log, stderr=log,
                                           start_new_session=True), log))
        yield [p for p, _ in procs]
    finally:
        for proc, log in procs:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)   # the group of the worker started here (RQ's work horse)
                proc.wait()
            log.close()


def _settled(db, seconds: float = 4, timeout: float = 240) -> None:
    """Wait until the workers have nothing left to do: no job waiting or running, no follow-up
    due or on its way, and the counts of follow-ups and tasks unchanged for ``seconds``."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = dt.datetime.now(dt.timezone.utc)
        with db.session() as s:
            busy = s.scalar(select(func.count()).select_from(Job).where(Job.state.in_(["pending", "queued", "running"])))
            due = s.scalar(select(func.count()).select_from(Followup).where(
                Followup.state.in_(["queued", "sending"]) | ((Followup.state == "scheduled") & (Followup.send_after <= now))))
            counts = (s.scalar(select(func.count()).select_from(Followup)),
                      s.scalar(select(func.count()).select_from(CallbackTask)))
        if busy or due or counts != last:
            last, since = counts, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
        time.sleep(0.5)
    raise AssertionError(f"the workers did not settle: {busy} jobs busy, {due} follow-ups due")


@postgresql_only
def test_two_web_hosts_and_two_workers_store_and_send_everything_once(database, tmp_path):
    settings = Settings.from_env({})
    menu = load_menu(settings.menu_file)
    survey = load_survey(settings.survey_file, set(menu.languages))
    api_token = "ac_" + secrets.token_urlsafe(24)
    start = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    scenario = load_scenario(ROOT / "emulator" / "scenarios" / "load.toml").replace(
        calls=CALLS, auth_token=AUTH_TOKEN, api_token=api_token, start=start)   # recent: follow-ups are due now
    with database.session() as s:
        s.add(ApiToken(name="emulator (agent console)", role="admin", token_hash=hash_token(api_token)))
        for spec in scenario.agents:
            create_agent(s, {"id": spec.id, "name": spec.name, "team": spec.team, "skills": list(spec.skills),
                             "phone": spec.phone, "presence": "available"}, menu.queues)
    policy = tmp_path / "followup.toml"   # no quiet hours: the test runs at any hour
    policy.write_text((ROOT / "survey" / "followup.toml").read_text(encoding="utf-8").replace(
        'quiet_hours = ["21:00", "09:00"]', "quiet_hours = []"), encoding="utf-8")
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN, limits={"call": 20, "message": 20}) as rest:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
               "DATABASE_URL": database.url, "REDIS_URL": REDIS_URL, "RQ_QUEUE": f"many-hosts-{uuid.uuid4().hex[:8]}",
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "shared-by-every-host", "PUBLIC_BASE_URL": PUBLIC,
               "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_FROM_NUMBER": FROM, "TWILIO_API_BASE_URL": rest.url,
               "TWILIO_CALLS_PER_SECOND": "20", "TWILIO_MESSAGES_PER_SECOND": "20",
               "FOLLOWUPS_ENABLED": "1", "FOLLOWUP_FILE": str(policy), "FOLLOWUP_SECONDS": "1",
               "CALLBACK_SWEEP_SECONDS": "1", "PYTHONPATH": str(ROOT)}
        with contextlib.ExitStack() as stack:
            ports = []
            for host in ("a", "b"):
                host_env = {**env, "ANSWER_SPOOL_DIR": str(tmp_path / f"spool-{host}")}
                base, _ = stack.enter_context(gunicorn("aftercall:create_app()", host_env, workers=1, threads=8))
                ports.append(int(base.rsplit(":", 1)[1]))
            stack.enter_context(workers(env, 2, tmp_path))
            balancer = Balancer(ports, seed=scenario.seed)
            client = stack.enter_context(httpx.Client(transport=balancer, timeout=httpx.Timeout(15.0, connect=5.0)))
            result = run(scenario, Target(PUBLIC, client), progress=False, concurrency=40, window_s=5.0,
                         console=PreseededConsole(HttpConsole(client, PUBLIC, api_token)))
            _settled(database)
        created = rest.sent()
        refused = [r for r in rest.requests if r[2] == 429]

    # Twilio saw only good answers, from both hosts, each call's requests spread over both.
    assert [e for c in result.truth for e in c.app_errors] == [] and not result.callback_errors
    assert min(balancer.hits.values()) > 0.3 * sum(balancer.hits.values()), balancer.hits
    spread = list(balancer.hosts_of_call.values())
    assert len(spread) == CALLS and sum(len(h) == 2 for h in spread) >= 0.9 * CALLS
    # Both workers ran jobs (RQ logs "Job OK" for each).
    assert all("Job OK" in (tmp_path / f"worker-{n}.log").read_text(errors="replace") for n in range(2))

    # Every call, leg (an agent rung) and answer stored once, as the truth has it.
    with database.session() as s:
        report = reconcile(s, result.truth, questions=[q.key for q in survey.questions],
                           languages={lang.digit: lang.key for lang in menu.languages.values()})
    assert not any(report.duplicates.values()), report.duplicates
    assert report.mismatches == [], report.summary(limit=30)
    assert report.totals["survey answers"][0] > 0

    # Every follow-up sent once: one create per follow-up, each one's SID stored on it.
    with database.session() as s:
        followups = s.execute(select(Followup.id, Followup.state, Followup.channel, Followup.to_number,
                                     Followup.twilio_sid)).all()
        tasks = s.execute(select(CallbackTask.leg_id)).scalars().all()
        checks = s.execute(select(CallerCheck.twilio_sid).where(CallerCheck.twilio_sid.is_not(None))).scalars().all()
    sent = [f for f in followups if f.state == "sent"]
    # The other messages are the call-back loop's "resolved now?" checks (past a team's daily
    # capacity, or after a call-back resolved), one per task and kind.
    assert sent and len(sent) + len(checks) == len(created) and refused == []
    assert {f.twilio_sid for f in sent} | set(checks) == {c.sid for c in created}
    surveyed = {f.twilio_sid for f in sent}
    assert max(Counter(c.to for c in created if c.sid in surveyed).values()) == 1
    assert max(Counter(c.params.get("Url") for c in created if c.kind == "call").values(), default=1) == 1

    # Every task owed was opened by the workers' sweeps, and none twice.
    assert tasks and len(tasks) == len(set(tasks))
    again = Database(database.url)
    try:
        assert sweep(Settings.from_env({"DATABASE_URL": database.url}), again) == 0
    finally:
        again.dispose()
