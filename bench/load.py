"""Load: the emulator against gunicorn + PostgreSQL + Redis on loopback, reconciled with the truth.

One run: a fresh PostgreSQL database migrated by the app's own migrations; gunicorn serving
``create_app()`` as the Procfile does (``--workers 4 --threads 4 --timeout 15``) with
``REDIS_URL`` set to the real Redis (own RQ queue name); the emulator
(``emulator/scenarios/load.toml``: a burst of overlapping calls, every delivery fault on)
driving it over HTTP with ``--concurrency`` requests in flight; then

- application errors: Twilio-side (non-2xx, timeouts, bad TwiML, failed status callbacks,
  agent-console errors) and server-side (every warning or error the app logged: a webhook that
  answered with its fallback TwiML logs one), plus gunicorn workers that died or were replaced;
- ``aftercall.ground_truth``: every stored call, leg and answer against the emulator's truth;
- scoring against the truth: SLA handled per agent and queue, scorecard handled / surveys /
  raw adequacy and CSAT per agent, and call outcomes, each equal to what the truth implies.

    python -m bench.load --calls 2000 --concurrency 500 --chart load.svg

``tests/load`` runs the same thing with a few hundred calls as part of ``make test``.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import secrets
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "emulator" / "scenarios" / "load.toml"
PG_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AUTH_TOKEN = "load-auth-token"
LOG_ENV = "AFTERCALL_LOAD_LOG"
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def seed_console(db, agents, queues, api_token: str, name: str) -> None:
    """The emulator's agent-console token and its agents, available before the first call, as on
    a working day (registering them through the console races its first presence PUT)."""
    from callflow.agents import create_agent
    from store.accounts import ApiToken, hash_token
    with db.session() as s:
        s.add(ApiToken(name=name, role="admin", token_hash=hash_token(api_token)))
        for spec in agents:
            create_agent(s, {"id": spec.id, "name": spec.name, "team": spec.team, "skills": list(spec.skills),
                             "phone": spec.phone, "presence": "available"}, queues)

def logged_app():
    """gunicorn entry point: ``create_app()`` with every warning and error also written to the file
    named in ``AFTERCALL_LOAD_LOG``, so the load run can count what went wrong server-side."""
    path = os.environ.get(LOG_ENV)
    if path:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logging.getLogger().addHandler(handler)
    from aftercall.app import create_app
    return create_app()


class _PreseededConsole:
    """The emulator's agent console without registration: the agents are created before the run."""

    def __init__(self, console):
        self.console = console
        self.errors = console.errors

    def register(self, spec):
        return None

    def presence(self, agent_id, presence):
        return self.console.presence(agent_id, presence)


# ---- measuring the client side ------------------------------------------------------------

class CountingTransport(httpx.HTTPTransport):
    """An HTTP transport that records every request: start, latency, path; and requests in flight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.t0 = time.perf_counter()
        self.samples: list[tuple[float, float, str]] = []   # (start s since t0, seconds, path)
        self.failures: Counter = Counter()                  # "path ExceptionName" -> n (no HTTP answer)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            response = super().handle_request(request)
            response.read()
            return response
        except Exception as exc:
            with self._lock:
                self.failures[f"{request.url.path} {type(exc).__name__}"] += 1
            raise
        finally:
            end = time.perf_counter()
            with self._lock:
                self.in_flight -= 1
                self.samples.append((start - self.t0, end - start, request.url.path))

    def mean_in_flight(self) -> float:
        """Time-weighted mean of requests in flight between the first start and the last end."""
        if not self.samples:
            return 0.0
        first = min(s for s, _, _ in self.samples)
        last = max(s + d for s, d, _ in self.samples)
        return sum(d for _, d, _ in self.samples) / max(last - first, 1e-9)


def peak_calls_in_progress(truth) -> int:
    """Most calls in progress at once, in simulated time."""
    events = sorted([(c.start_s, 1) for c in truth] + [(c.start_s + c.duration_s, -1) for c in truth],
                    key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


# ---- scoring against the truth ------------------------------------------------------------

def scoring_check(session, truth, start, end) -> list[str]:
    """SLA, scorecard and outcome counts computed by ``scoring`` vs the same counts from the truth."""
    from aftercall.ground_truth import agent_ended, bridged
    from scoring.outcomes.classify import classify_calls
    from scoring.scorecards.build import build_scorecards
    from scoring.outcomes.sla import sla_report

    out: list[str] = []
    handled_by_agent, handled_by_queue = Counter(), Counter()
    offered, completed = Counter(), Counter()
    adequate, adequate_yes, csat, csat_top = Counter(), Counter(), Counter(), Counter()
    transfer_backs = 0
    outcomes = Counter()
    for call in truth:
        for leg in call.legs:
            if bridged(leg):
                handled_by_agent[leg.agent_id] += 1
                handled_by_queue[leg.queue] += 1
            offered[leg.agent_id] += agent_ended(leg)
            answers = leg.survey
            if answers[:2]:
                completed[leg.agent_id] += 1
            if len(answers) >= 1:
                adequate[leg.agent_id] += 1
                adequate_yes[leg.agent_id] += answers[0] == "1"
            if len(answers) >= 2:
                csat[leg.agent_id] += 1
                csat_top[leg.agent_id] += int(answers[1]) >= 4
            transfer_backs += len(answers) >= 3 and answers[2] == "1"
        if any(bridged(leg) for leg in call.legs):
            outcomes["handled"] += 1
        elif not call.queues:
            outcomes["ivr-abandoned"] += 1
        else:
            outcomes["queue-abandoned"] += 1

    def compare(what: str, want: Counter, got: Counter) -> None:
        keys = sorted(k for k in set(want) | set(got) if want.get(k, 0) != got.get(k, 0))
        for k in keys:
            out.append(f"{what} [{k}]: truth {want.get(k, 0)}, scoring {got.get(k, 0)}")

    by_agent = sla_report(session, start, end, by="agent")
    compare("SLA handled by agent", +handled_by_agent, Counter({r.key: r.handled for r in by_agent if r.key and r.handled}))
    by_queue = sla_report(session, start, end, by="queue")
    compare("SLA handled by queue", +handled_by_queue, Counter({r.key: r.handled for r in by_queue if r.handled}))
    got_tb = sum(r.transfer_backs for r in by_queue)
    if got_tb != transfer_backs:
        out.append(f"SLA transfer-backs (Q3 = 1): truth {transfer_backs}, scoring {got_tb}")
    cards = build_scorecards(session, start, end)
    compare("scorecard handled", +handled_by_agent, Counter({c.agent_id: c.handled for c in cards if c.handled}))
    compare("scorecard surveys offered", +offered,
            Counter({c.agent_id: c.surveys_offered for c in cards if c.surveys_offered}))
    compare("scorecard surveys completed", +completed,
            Counter({c.agent_id: c.surveys_completed for c in cards if c.surveys_completed}))
    for c in cards:
        for name, est, yes, n in (("adequacy", c.adequacy, adequate_yes, adequate), ("csat", c.csat, csat_top, csat)):
            want = yes[c.agent_id] / n[c.agent_id] if n[c.agent_id] else None
            got = None if est.raw is None or math.isnan(est.raw) else est.raw
            if (want is None) != (got is None) or (want is not None and not math.isclose(want, got, abs_tol=1e-9)):
                out.append(f"scorecard raw {name} [{c.agent_id}]: truth {want}, scoring {got}")
    compare("call outcomes", +outcomes, Counter(o.outcome for o in classify_calls(session, start, end)))
    return out


# ---- one run ------------------------------------------------------------------------------

@dataclass
class LoadReport:
    first_contacts: int
    concurrency: int
    window_s: float
    workers: int
    threads: int
    faults: dict
    wall_s: float = 0.0                # the emulator's run, from the first call to the last
    setup_s: float = 0.0               # database created and migrated, gunicorn up
    check_s: float = 0.0               # reconcile and scoring against the truth
    requests: int = 0
    peak_in_flight: int = 0
    mean_in_flight: float = 0.0
    peak_calls: int = 0
    counts: dict = field(default_factory=dict)
    percentiles: dict = field(default_factory=dict)
    twilio_errors: list[str] = field(default_factory=list)     # what Twilio (the emulator) saw fail
    server_log: list[str] = field(default_factory=list)        # warnings and errors the app logged
    worker_changes: int = 0
    jobs_enqueued: int = 0
    duplicate_mismatches: dict = field(default_factory=dict)   # path -> duplicates answered differently
    transport_failures: dict = field(default_factory=dict)     # "path Exception" -> requests with no answer
    reconciliation: object = None
    scoring: list[str] = field(default_factory=list)
    samples: list = field(default_factory=list, repr=False)

    @property
    def app_errors(self) -> int:
        return len(self.twilio_errors) + len(self.server_log) + self.worker_changes

    @property
    def mismatches(self) -> int:
        return len(self.reconciliation.mismatches) + len(self.scoring)

    def summary(self) -> str:
        c = self.counts
        lines = [
            f"calls {c.get('calls', 0)} ({self.first_contacts} first contacts), concurrency {self.concurrency} "
            f"(peak {self.peak_in_flight} requests in flight, mean {self.mean_in_flight:.0f}; "
            f"peak {self.peak_calls} calls in progress), gunicorn {self.workers}x{self.threads}",
            "faults " + ", ".join(f"{k} {v}" for k, v in self.faults.items()),
            f"wall {self.wall_s:.1f} s, {self.requests} requests ({self.requests / max(self.wall_s, 1e-9):.0f}/s); "
            f"setup {self.setup_s:.1f} s, checks {self.check_s:.1f} s",
            f"bridged {c.get('bridged', 0)}, abandoned in queue {c.get('abandoned_in_queue', 0)}, in IVR "
            f"{c.get('abandoned_in_ivr', 0)}, surveys completed {c.get('surveys_completed', 0)}",
            f"application errors {self.app_errors} (Twilio side {len(self.twilio_errors)}, app log "
            f"{len(self.server_log)}, gunicorn workers replaced {self.worker_changes}); "
            f"duplicate deliveries answered differently {sum(self.duplicate_mismatches.values())} "
            f"{self.duplicate_mismatches or ''}; jobs enqueued {self.jobs_enqueued}",
            f"requests that got no HTTP answer (retried by Twilio where its policy says so): "
            f"{sum(self.transport_failures.values())} {self.transport_failures or ''}",
            f"mismatches {self.mismatches} (reconcile {len(self.reconciliation.mismatches)}, scoring {len(self.scoring)})",
            "",
            self.reconciliation.summary(limit=20),
        ]
        lines += ["  " + s for s in self.scoring[:20]]
        lines += [f"  Twilio: {e}" for e in self.twilio_errors[:10]]
        lines += [f"  app log: {e}" for e in self.server_log[:10]]
        lines.append("")
        lines.append(f"{'webhook path':<24}{'n':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
        for path, p in self.percentiles.items():
            lines.append(f"{path:<24}{p['n']:>8}{p['p50_ms']:>10.0f}{p['p95_ms']:>10.0f}{p['p99_ms']:>10.0f}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"calls": self.counts.get("calls"), "first_contacts": self.first_contacts,
                "concurrency": self.concurrency, "window_s": self.window_s, "gunicorn": f"{self.workers}x{self.threads}",
                "faults": self.faults, "wall_s": round(self.wall_s, 1), "setup_s": round(self.setup_s, 1),
                "check_s": round(self.check_s, 1), "requests": self.requests,
                "peak_in_flight": self.peak_in_flight, "mean_in_flight": round(self.mean_in_flight, 1),
                "peak_calls_in_progress": self.peak_calls, "counts": self.counts, "app_errors": self.app_errors,
                "duplicates_answered_differently": self.duplicate_mismatches,
                "transport_failures": self.transport_failures,
                "unjoined_visits": len(self.reconciliation.unjoined_visits),
                "twilio_errors": self.twilio_errors[:50], "server_log": self.server_log[:50],
                "mismatches": self.mismatches,
                "reconcile": [str(m) for m in self.reconciliation.mismatches[:200]],
                "scoring": self.scoring[:200], "totals": self.reconciliation.totals,
                "percentiles": self.percentiles}


def _log_records(path: Path) -> list[str]:
    """The first line of each record in the app's warning/error log."""
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line[:4].isdigit() and any(f" {level} " in line for level in ("WARNING", "ERROR", "CRITICAL"))]


def _create_database(admin_url: str) -> str:
    from bench.data import create_database
    return create_database(admin_url, f"aftercall_load_{uuid.uuid4().hex[:10]}")


def _drop_database(admin_url: str, url: str) -> None:
    import psycopg

    from bench.data import libpq
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_load(calls: int = 400, concurrency: int = 250, *, scenario_path: Path | str = SCENARIO, faults: dict | None = None,
             admin_url: str = PG_ADMIN, redis_url: str = REDIS_URL, workers: int = 4, threads: int = 4,
             window_s: float = 2.0, seed: int | None = None, progress: bool = True, keep_database: bool = False,
             workdir: Path | None = None) -> LoadReport:
    from redis import Redis
    from sqlalchemy import func, select

    from aftercall.config import Settings
    from bench.servers import gunicorn, worker_pids
    from emulator import HttpConsole, Target, load_scenario, run
    from aftercall.ground_truth import reconcile
    from ivr.menu import load_menu
    from store.db import Database
    from store.jobs import Job
    from survey.definition import load_survey

    settings = Settings.from_env({})
    menu = load_menu(settings.menu_file)
    survey = load_survey(settings.survey_file, set(menu.languages))
    scenario = load_scenario(scenario_path)
    api_token = "ac_" + secrets.token_urlsafe(24)
    scenario = scenario.replace(calls=calls, auth_token=AUTH_TOKEN, api_token=api_token,
                                **({"seed": seed} if seed is not None else {}))
    for name, value in (faults or {}).items():
        setattr(scenario.faults, name, value)
    report = LoadReport(first_contacts=calls, concurrency=concurrency, window_s=window_s, workers=workers,
                        threads=threads, faults={k: v for k, v in vars(scenario.faults).items()
                                                 if k in ("duplicate_request", "duplicate_status_callback",
                                                          "reorder_status_callbacks", "lost_response")})
    redis = Redis.from_url(redis_url, socket_connect_timeout=2)
    redis.ping()   # REDIS_URL must be the real thing, not a silently dead URL
    rq_queue = f"aftercall-load-{uuid.uuid4().hex[:8]}"
    began = time.perf_counter()
    workdir = Path(workdir or tempfile.mkdtemp(prefix="aftercall-load-"))
    log_path = workdir / "app-warnings.log"
    url = _create_database(admin_url)
    db = Database(url)
    try:
        seed_console(db, scenario.agents, menu.queues, api_token, "load emulator (agent console)")
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "RQ_QUEUE": rq_queue,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "load", "ANSWER_SPOOL_DIR": str(workdir / "spool"),
               LOG_ENV: str(log_path),
               "GUNICORN_CMD_ARGS": f"--timeout 15 --error-logfile {workdir / 'gunicorn.log'}"}
        with gunicorn("bench.load:logged_app()", env, workers=workers, threads=threads) as (base, master):
            pids = set(worker_pids(master))
            report.setup_s = time.perf_counter() - began
            # Idle connections are dropped after 1 s, before gunicorn's 2 s keep-alive closes them: reusing
            # one the server is closing gets "connection reset" (a client artefact, not an app error).
            limits = httpx.Limits(max_connections=concurrency + 16, max_keepalive_connections=concurrency + 16,
                                  keepalive_expiry=1.0)
            transport = CountingTransport(limits=limits)
            client = httpx.Client(transport=transport, timeout=httpx.Timeout(15.0, connect=5.0))
            target = Target(base, client)
            try:
                result = run(scenario, target, progress=progress, concurrency=concurrency, window_s=window_s,
                             truth_path=workdir / "truth.jsonl",
                             console=_PreseededConsole(HttpConsole(client, base, api_token)))
            finally:
                client.close()
            report.worker_changes = len(pids ^ set(worker_pids(master)))
        report.wall_s = result.wall_s
        report.samples = transport.samples
        report.transport_failures = dict(transport.failures)
        report.requests = len(transport.samples)
        report.peak_in_flight = transport.peak
        report.mean_in_flight = transport.mean_in_flight()
        report.peak_calls = peak_calls_in_progress(result.truth)
        report.counts = result.counts()
        report.percentiles = result.percentiles()
        report.duplicate_mismatches = dict(Counter(urlsplit(u).path for c in result.truth
                                                   for u in c.duplicate_mismatches))
        report.twilio_errors = ([f"{c.call_sid} {e.code} {e.url} {e.detail}" for c in result.truth for e in c.app_errors]
                                + [f"status callbacks failed: {result.callback_errors}"] * bool(result.callback_errors)
                                + [f"agent console: {e}" for e in result.console_errors])
        report.server_log = _log_records(log_path)
        report.jobs_enqueued = redis.llen(f"rq:queue:{rq_queue}")
        epoch = scenario.epoch()
        checking = time.perf_counter()
        with db.session() as s:
            report.jobs_enqueued += s.scalar(select(func.count()).select_from(Job)) or 0
            report.reconciliation = reconcile(s, result.truth, questions=[q.key for q in survey.questions],
                                              languages={lang.digit: lang.key for lang in menu.languages.values()})
            report.scoring = scoring_check(s, result.truth, epoch - timedelta(days=1),
                                           epoch + timedelta(days=scenario.days + 1))
        report.check_s = time.perf_counter() - checking
        (workdir / "report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str), encoding="utf-8")
        return report
    finally:
        db.dispose()
        if not keep_database:
            _drop_database(admin_url, url)


# ---- a chart ------------------------------------------------------------------------------

def chart_svg(samples, title: str, width: int = 720, height: int = 300, points: int = 120) -> str:
    """Requests in flight (grey area, right axis) and p50/p99 latency of the requests that ended in
    each time bucket (about ``points`` buckets over the run): a self-contained SVG."""
    if not samples:
        return ""
    total = max(s + d for s, d, _ in samples)
    step = max(1.0, total / points)
    buckets = int(total / step) + 1
    ended: dict[int, list[float]] = defaultdict(list)
    busy = [0.0] * buckets                       # request-seconds per bucket -> mean in flight
    for start, dur, _ in samples:
        ended[min(int((start + dur) / step), buckets - 1)].append(dur * 1000)
        for i in range(int(start / step), min(int((start + dur) / step), buckets - 1) + 1):
            busy[i] += max(0.0, min(start + dur, (i + 1) * step) - max(start, i * step))
    inflight = [b / step for b in busy]
    p50 = [_pct(ended.get(i, []), 50) for i in range(buckets)]
    p99 = [_pct(ended.get(i, []), 99) for i in range(buckets)]
    pad_l, pad_r, pad_t, pad_b = 56, 48, 40, 30
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    top_ms = max((v for v in p99 if v is not None), default=1) or 1
    top_n = max(inflight) or 1

    def x(i):
        return pad_l + w * (i + 0.5) / buckets

    def y(v, top):
        return pad_t + h - h * v / top

    def line(values, top, colour):
        pts = " ".join(f"{x(i):.1f},{y(v, top):.1f}" for i, v in enumerate(values) if v is not None)
        return f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{pts}"/>'

    area = (f"{x(0):.1f},{pad_t + h} " + " ".join(f"{x(i):.1f},{y(v, top_n):.1f}" for i, v in enumerate(inflight))
            + f" {x(buckets - 1):.1f},{pad_t + h}")
    grid = "".join(
        f'<line x1="{pad_l}" y1="{y(top_ms * f, top_ms):.1f}" x2="{pad_l + w}" y2="{y(top_ms * f, top_ms):.1f}" '
        f'stroke="#eee"/><text x="{pad_l - 4}" y="{y(top_ms * f, top_ms) + 4:.1f}" text-anchor="end" '
        f'fill="#1f6feb">{top_ms * f:.0f} ms</text>'
        f'<text x="{pad_l + w + 4}" y="{y(top_ms * f, top_ms) + 4:.1f}" fill="#888">{top_n * f:.0f}</text>'
        for f in (0.25, 0.5, 0.75, 1.0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad_l}" y="16" font-size="13">{title}</text>',
        grid,
        f'<polygon fill="#ddd" points="{area}"/>',
        line(p99, top_ms, "#d1242f"), line(p50, top_ms, "#1f6feb"),
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#888"/>',
        f'<text x="{pad_l}" y="{height - 8}">0 s</text>',
        f'<text x="{pad_l + w}" y="{height - 8}" text-anchor="end">{total:.0f} s wall time '
        f'({step:.0f} s buckets)</text>',
        f'<text x="{pad_l}" y="32" fill="#1f6feb">p50 latency</text>',
        f'<text x="{pad_l + 80}" y="32" fill="#d1242f">p99 latency</text>',
        f'<text x="{pad_l + 160}" y="32" fill="#888">requests in flight (grey, right axis)</text>',
        "</svg>",
    ]
    return "\n".join(parts)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000, help="first-contact calls")
    ap.add_argument("--concurrency", type=int, default=500, help="requests the emulator keeps in flight")
    ap.add_argument("--window", type=float, default=2.0,
                    help="simulated seconds within which requests of different calls may overlap")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--scenario", default=str(SCENARIO))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--pg-admin", default=PG_ADMIN, help="a database URL on the PostgreSQL server to use")
    ap.add_argument("--redis-url", default=REDIS_URL)
    ap.add_argument("--chart", default=None, help="write an SVG of latency and requests in flight over time")
    ap.add_argument("--json", default=None, help="write the report as JSON")
    ap.add_argument("--keep-db", action="store_true", help="keep the database for inspection")
    args = ap.parse_args(argv)
    report = run_load(args.calls, args.concurrency, scenario_path=args.scenario, admin_url=args.pg_admin,
                      redis_url=args.redis_url, workers=args.workers, threads=args.threads,
                      window_s=args.window, seed=args.seed, keep_database=args.keep_db)
    print(report.summary())
    if args.chart:
        Path(args.chart).write_text(chart_svg(
            report.samples, f"{report.counts.get('calls')} calls, concurrency {args.concurrency}, "
                            f"gunicorn {args.workers}x{args.threads}"), encoding="utf-8")
        print(f"chart: {args.chart}")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2, default=str), encoding="utf-8")
    return 0 if report.app_errors == 0 and report.mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
