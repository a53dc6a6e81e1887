"""The caller journey's whole webhook mix at a large centre's peak, open-loop, stepped up.

Issue 21: a 5,000-seat centre at its peak takes about 14 new calls a second, with bursts of
three times that. Each caller's whole journey runs through the real webhook URLs with valid
``X-Twilio-Signature`` (the emulator's ``Call``: incoming, language, menu, queue wait, queue
done, dial action, status callbacks, survey answers, recording callbacks), against gunicorn as
the Procfile runs it (4 workers x 4 threads, 15 s timeout), PostgreSQL and Redis.

Open loop: callers arrive on the wall clock (Poisson at the step's rate, three times that for
a few seconds in the middle of each step) whatever the server's latency; a call's next webhook
follows its previous answer, as Twilio's do. Simulated time runs ``--speedup`` times the wall
clock (a 75 s talk lasts 3.75 s), which changes how many calls are in progress, not the
webhooks a call makes. Each step reports webhooks/s achieved, p50/p95/p99 per URL and overall,
errors (a non-2xx answer, a Twilio-side error or a fallback TwiML, which the app logs), how
late the client sent (if it could not keep up, the step does not count), and the CPU per
webhook of gunicorn, the database's backends, Redis and the client. The steps go up until p99
or errors break; afterwards every call, leg and answer is reconciled with the emulator's truth
(every answer once, no leg left open), and the per-box rate is projected to N web boxes
sharing one PostgreSQL (``--chart``).

    python -m bench.mix_bench --rates 14,28,42,56 --step-seconds 30 --chart bench/results/mix.svg
"""
from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import math
import os
import queue
import resource
import secrets
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

from bench.load import (
    LOG_ENV,
    PG_ADMIN,
    REDIS_URL,
    SCENARIO,
    CountingTransport,
    _create_database,
    seed_console,
    _drop_database,
    _log_records,
    _PreseededConsole,
)
from bench.webhook_bench import _cpu_seconds
from emulator.engine import Engine

AUTH_TOKEN = "mix-auth-token"
P99_LIMIT_MS = 500       # a caller hears silence while a webhook is answered; past this a step "breaks"
LAG_LIMIT_MS = 100       # the client sent this late at p99: it, not the server, limited the step
BURST = (0.4, 0.55, 3.0)   # from 40 % to 55 % of each step, arrivals at three times its rate
WARM_UP = (3.0, 6.0)       # calls/s, seconds


class WallClockEngine(Engine):
    """The emulator's engine paced by the wall clock: simulated time is ``speedup`` x real time.

    A process due at simulated time t runs when the clock reaches it (not when the previous
    request answered: open loop); its request runs in a thread pool large enough never to be
    the bottleneck, and the call resumes at the later of t and the answer's time."""

    def __init__(self, speedup: float, threads: int = 256):
        super().__init__(concurrency=threads, window_s=math.inf)
        self.speedup = speedup
        self.lag_s: list[float] = []       # how late each due process started (wall seconds)
        self._t0 = 0.0

    def now(self) -> float:
        return (time.perf_counter() - self._t0) * self.speedup

    def run(self) -> None:
        self._t0 = time.perf_counter()
        done: queue.SimpleQueue = queue.SimpleQueue()
        pool = ThreadPoolExecutor(self.concurrency)
        try:
            while self._heap or self._inflight:
                now = self.now()
                while self._heap and self._heap[0][0] <= now:
                    t, _, proc = heapq.heappop(self._heap)
                    self.lag_s.append((now - t) / self.speedup)
                    self.clock = max(self.clock, t)
                    self._step(proc, t, t, pool)
                for fut in list(self._inflight):
                    if not getattr(fut, "_mix_watched", False):
                        fut._mix_watched = True
                        fut.add_done_callback(done.put)
                wait_s = (self._heap[0][0] - self.now()) / self.speedup if self._heap else 1.0
                try:
                    fut = done.get(timeout=max(0.0, min(wait_s, 1.0)))
                except queue.Empty:
                    continue
                while True:
                    t, _, proc = self._inflight.pop(fut)
                    self._step(proc, max(t, self.now()), fut.result(), pool)
                    try:
                        fut = done.get_nowait()
                    except queue.Empty:
                        break
        finally:
            pool.shutdown(wait=True)


class StatusTransport(CountingTransport):
    """Also counts the answers that were not 200, by path."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.not_ok: Counter = Counter()

    def handle_request(self, request):
        response = super().handle_request(request)
        if response.status_code != 200:
            with self._lock:
                self.not_ok[f"{request.url.path} {response.status_code}"] += 1
        return response


def arrivals(rate: float, seconds: float, speedup: float, seed: int) -> list[float]:
    """First contacts' simulated start times: Poisson at ``rate`` calls per wall second, three
    times that within the burst window."""
    rng = np.random.default_rng(seed)
    lo, hi, factor = BURST
    out, t = [], 0.0
    while True:
        r = rate * (factor if lo * seconds <= t < hi * seconds else 1.0)
        t += rng.exponential(1.0 / r)
        if t >= seconds:
            return [x * speedup for x in out]
        out.append(t)


def _pct(values, qs=(50, 95, 99)) -> dict:
    if not len(values):
        return {}
    p = np.percentile(np.asarray(values) * 1000.0, qs)
    return {f"p{q}_ms": round(float(v), 1) for q, v in zip(qs, p)}


def _pids(pattern: list[str]) -> list[int]:
    out = subprocess.run(pattern, capture_output=True, text=True, check=False).stdout   # none found: exit 1
    return [int(p) for p in out.split()]


def _backends(url: str) -> list[int]:
    import psycopg

    from bench.data import libpq
    with psycopg.connect(libpq(url)) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()")]


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _agents(base_agents, n: int):
    """``n`` agents cycled from the scenario's (same teams, skills, quality, behaviour), fresh ids."""
    return [dataclasses.replace(base_agents[i % len(base_agents)], id=f"m{i:04d}", name=f"m{i:04d}", phone=None)
            for i in range(n)]


def step_report(samples, t0: float, t1: float, not_ok: Counter, lag_s: list[float], cpu: dict,
                rate: float, seconds: float, log_lines: list[str], twilio_errors: list[str]) -> dict:
    """One step: webhooks only (paths under /voice/), within [t0, t1) on the transport's clock."""
    hooks = [(s, d, p) for s, d, p in samples if t0 <= s < t1 and p.startswith("/voice/")]
    n = len(hooks)
    span = max((s + d for s, d, _ in hooks), default=t1) - min((s for s, _, _ in hooks), default=t0)
    lo, hi, _ = BURST
    burst = [d for s, d, _ in hooks if t0 + lo * seconds <= s < t0 + hi * seconds + 3]
    steady = [d for s, d, _ in hooks if s < t0 + lo * seconds or s >= t0 + hi * seconds + 3]
    by_path = {}
    for path in sorted({p for _, _, p in hooks}):
        ds = [d for _, d, p in hooks if p == path]
        by_path[path] = {"n": len(ds), **_pct(ds)}
    per_second = Counter(int(s - t0) for s, _, _ in hooks)
    errors = sum(not_ok.values()) + len(log_lines) + len(twilio_errors)
    per = {k: round(1000 * v / max(n, 1), 3) for k, v in cpu.items()}
    # Arrivals at the step's mean rate over its whole span (the burst included).
    mean_rate = rate * (1 + (BURST[2] - 1) * (hi - lo))
    return {
        "calls_per_s": rate, "calls_per_s_mean_with_burst": round(mean_rate, 1),
        "webhooks": n, "wall_s": round(span, 1), "webhooks_per_s": round(n / max(span, 1e-9), 1),
        # While callers arrive (calls that began earlier still run: from one call's length in,
        # the rate the step offers); and the busiest second, the burst's.
        "webhooks_per_s_arriving": round(sum(v for k, v in per_second.items() if k < seconds) / seconds, 1),
        "webhooks_per_s_peak_second": max(per_second.values(), default=0),
        "webhooks_per_call": None, "all": _pct([d for _, d, _ in hooks]),
        "steady": _pct(steady), "burst": {**_pct(burst), "webhooks_per_s":
                                          round(len([1 for s, _, p in hooks if t0 + lo * seconds <= s < t0 + hi * seconds])
                                                / max((hi - lo) * seconds, 1e-9), 1)},
        "by_path": by_path, "errors": errors, "not_200": dict(not_ok), "app_log": log_lines[:20],
        "twilio_errors": twilio_errors[:20], "send_lag": _pct(lag_s),
        "cpu_ms_per_webhook": per, "cpu_ms_per_webhook_server": round(per.get("gunicorn", 0) + per.get("postgresql", 0)
                                                                       + per.get("redis", 0), 3),
    }


def broke(step: dict) -> str | None:
    if step["errors"]:
        return f"{step['errors']} errors"
    if step["all"].get("p99_ms", 0) > P99_LIMIT_MS:
        return f"p99 {step['all']['p99_ms']:.0f} ms > {P99_LIMIT_MS} ms"
    if step["send_lag"].get("p99_ms", 0) > LAG_LIMIT_MS:
        return f"the client sent {step['send_lag']['p99_ms']:.0f} ms late at p99 (it, not the server, is the limit)"
    return None


def run(rates: list[float], step_seconds: float, speedup: float, agents: int, workers: int, threads: int,
        admin_url: str = PG_ADMIN, redis_url: str = REDIS_URL, keep_going: bool = False) -> dict:
    from redis import Redis

    from aftercall.config import Settings
    from aftercall.ground_truth import reconcile
    from bench.servers import gunicorn, worker_pids
    from emulator import HttpConsole, Target, load_scenario
    from emulator import run as emulate
    from ivr.menu import load_menu
    from store.db import Database
    from survey.definition import load_survey

    settings = Settings.from_env({})
    menu = load_menu(settings.menu_file)
    survey = load_survey(settings.survey_file, set(menu.languages))
    api_token = "ac_" + secrets.token_urlsafe(24)
    base = load_scenario(SCENARIO)
    # Twilio's deliveries as they usually are: no faults injected (bench.load covers those).
    base = base.replace(auth_token=AUTH_TOKEN, api_token=api_token, agents=_agents(base.agents, agents),
                        callers=dataclasses.replace(base.callers, number_pool=20000),
                        faults=dataclasses.replace(base.faults, duplicate_request=0.0, duplicate_status_callback=0.0,
                                                   reorder_status_callbacks=0.0, lost_response=0.0))
    Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    workdir = Path(tempfile.mkdtemp(prefix="aftercall-mix-"))
    log_path = workdir / "app-warnings.log"
    url = _create_database(admin_url)
    db = Database(url)
    out = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
           "settings": {"gunicorn": f"{workers}x{threads}", "speedup": speedup, "agents": agents,
                        "step_seconds": step_seconds, "burst": BURST, "p99_limit_ms": P99_LIMIT_MS},
           "load_average_1min": {"before": _load()}, "steps": []}
    truth = []
    try:
        seed_console(db, base.agents, menu.queues, api_token, "mix emulator (agent console)")
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "RQ_QUEUE": f"aftercall-mix-{uuid.uuid4().hex[:8]}",
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "mix", "ANSWER_SPOOL_DIR": str(workdir / "spool"),
               LOG_ENV: str(log_path), "GUNICORN_CMD_ARGS": f"--timeout 15 --error-logfile {workdir / 'gunicorn.log'}"}
        redis_pids = _pids(["pgrep", "-x", "redis-server"])
        with gunicorn("bench.load:logged_app()", env, workers=workers, threads=threads) as (base_url, master):
            server_pids = [master.pid, *worker_pids(master)]
            limits = httpx.Limits(max_connections=512, max_keepalive_connections=512, keepalive_expiry=1.0)
            transport = StatusTransport(limits=limits)
            client = httpx.Client(transport=transport, timeout=httpx.Timeout(15.0, connect=5.0))
            target = Target(base_url, client)
            epoch = base.epoch()
            try:
                # Unreported: every worker imports, connects and fills its caches before the first step.
                print(f"warm-up: {WARM_UP[0]:g} calls/s for {WARM_UP[1]:g} s", flush=True)
                warm = emulate(base.replace(seed=base.seed + 999, start=epoch - timedelta(hours=1), calls=None),
                               target, progress=False, arrivals=arrivals(WARM_UP[0], WARM_UP[1], speedup, seed=999),
                               engine=WallClockEngine(speedup),
                               console=_PreseededConsole(HttpConsole(client, base_url, api_token)))
                truth += warm.truth
                for i, rate in enumerate(rates):
                    # Each step in an hour of its own, with call SIDs of its own.
                    scenario = base.replace(seed=base.seed + 1000 * (i + 1), start=epoch + timedelta(hours=i),
                                            calls=None)
                    times = arrivals(rate, step_seconds, speedup, seed=i)
                    print(f"step {i + 1}/{len(rates)}: {rate:g} calls/s ({len(times)} calls over {step_seconds:g} s, "
                          f"{BURST[2]:g}x from {BURST[0] * step_seconds:.0f} s to {BURST[1] * step_seconds:.0f} s)",
                          flush=True)
                    engine = WallClockEngine(speedup)
                    lines0 = len(_log_records(log_path))
                    backends = _backends(url)
                    cpu0 = {"gunicorn": _cpu_seconds(server_pids), "postgresql": _cpu_seconds(backends),
                            "redis": _cpu_seconds(redis_pids), "client": _self_cpu()}
                    t0 = time.perf_counter() - transport.t0
                    not_ok0 = Counter(transport.not_ok)
                    result = emulate(scenario, target, progress=False, arrivals=times, engine=engine,
                                     console=_PreseededConsole(HttpConsole(client, base_url, api_token)))
                    t1 = time.perf_counter() - transport.t0
                    backends1 = [p for p in _backends(url) if p not in backends]
                    cpu = {"gunicorn": _cpu_seconds(server_pids) - cpu0["gunicorn"],
                           "postgresql": _cpu_seconds(backends) - cpu0["postgresql"] + _cpu_seconds(backends1),
                           "redis": _cpu_seconds(redis_pids) - cpu0["redis"], "client": _self_cpu() - cpu0["client"]}
                    truth += result.truth
                    twilio = ([f"{c.call_sid} {e.code} {e.url} {e.detail}" for c in result.truth for e in c.app_errors]
                              + [f"status callbacks failed: {result.callback_errors}"] * bool(result.callback_errors))
                    step = step_report(transport.samples, t0, t1, transport.not_ok - not_ok0, engine.lag_s, cpu,
                                       rate, step_seconds, _log_records(log_path)[lines0:], twilio)
                    step["calls"] = len(result.truth)
                    step["webhooks_per_call"] = round(step["webhooks"] / max(len(result.truth), 1), 1)
                    step["load_average_1min"] = _load()
                    step["broke"] = broke(step)
                    out["steps"].append(step)
                    a = step["all"]
                    print(f"  {step['webhooks']} webhooks ({step['webhooks_per_call']}/call) in {step['wall_s']} s: "
                          f"{step['webhooks_per_s_arriving']}/s while callers arrive, busiest second "
                          f"{step['webhooks_per_s_peak_second']}; p50 {a['p50_ms']} "
                          f"p95 {a['p95_ms']} p99 {a['p99_ms']} ms (burst p99 {step['burst'].get('p99_ms')}); "
                          f"errors {step['errors']}; send lag p99 {step['send_lag'].get('p99_ms')} ms; CPU/webhook "
                          f"{step['cpu_ms_per_webhook']}; load {step['load_average_1min']}"
                          + (f"; BROKE: {step['broke']}" if step["broke"] else ""), flush=True)
                    if step["broke"] and not keep_going:
                        break
            finally:
                client.close()
        print("reconciling with the truth…", flush=True)
        with db.session() as s:
            rec = reconcile(s, truth, questions=[q.key for q in survey.questions],
                            languages={lang.digit: lang.key for lang in menu.languages.values()})
            open_legs = s.execute(_open_legs_sql()).scalar()
        out["reconcile"] = {"calls": rec.calls, "mismatches": len(rec.mismatches),
                            "examples": [str(m) for m in rec.mismatches[:20]], "totals": rec.totals,
                            "duplicates": rec.duplicates, "legs_left_open": open_legs}
        print(rec.summary(limit=10))
        print(f"legs left open: {open_legs}")
    finally:
        db.dispose()
        _drop_database(admin_url, url)
    out["load_average_1min"]["after"] = _load()
    out["sustainable"] = sustainable(out["steps"])
    return out


def _open_legs_sql():
    from sqlalchemy import func, select

    from store.calls import Leg
    return select(func.count()).select_from(Leg).where(Leg.ended_at.is_(None))


def sustainable(steps: list[dict]) -> dict | None:
    """The last step before the first that broke; its CPU per webhook for the projection."""
    good = None
    for s in steps:
        if s["broke"]:
            break
        good = s
    if good is None:
        return None
    return {"calls_per_s": good["calls_per_s"], "webhooks_per_s": good["webhooks_per_s_arriving"],
            "webhooks_per_s_peak_second": good["webhooks_per_s_peak_second"],
            "burst_webhooks_per_s": good["burst"]["webhooks_per_s"], "p99_ms": good["all"]["p99_ms"],
            "cpu_ms_per_webhook": good["cpu_ms_per_webhook"]}


def projection(sus: dict, cores: int, pg_cores: int, headroom: float = 0.7) -> dict:
    """Web boxes scale out; PostgreSQL is shared. A box like this one (``cores``) serving only
    the web (no database, no load generator) is CPU-bound at cores / gunicorn CPU per webhook;
    PostgreSQL on ``pg_cores`` at pg_cores / its CPU per webhook; both at ``headroom``."""
    cpu = sus["cpu_ms_per_webhook"]
    web_box = headroom * cores * 1000 / max(cpu["gunicorn"], 1e-9)
    measured_box = sus["webhooks_per_s"]
    pg = headroom * pg_cores * 1000 / max(cpu["postgresql"], 1e-9)
    return {"per_web_box_cpu_bound": round(web_box), "per_box_measured_shared": measured_box,
            "postgresql_ceiling": round(pg), "pg_cores": pg_cores, "headroom": headroom,
            "boxes_until_postgresql_limits": math.floor(pg / web_box) if web_box else None}


def chart(out: dict, proj: dict, demand: tuple[float, float], width: int = 720, height: int = 300) -> str:
    """Webhooks/s served by N web boxes against PostgreSQL's ceiling and the centre's demand."""
    n_max = max(4, (proj["boxes_until_postgresql_limits"] or 4) + 2)
    top = max(proj["postgresql_ceiling"], n_max * proj["per_web_box_cpu_bound"], demand[1]) * 1.1
    pad_l, pad_r, pad_t, pad_b = 60, 20, 56, 34
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(n):
        return pad_l + w * n / n_max

    def y(v):
        return pad_t + h - h * v / top

    web = " ".join(f"{x(n):.1f},{y(min(n * proj['per_web_box_cpu_bound'], proj['postgresql_ceiling'])):.1f}"
                   for n in range(n_max + 1))
    measured = " ".join(f"{x(n):.1f},{y(n * proj['per_box_measured_shared']):.1f}" for n in range(n_max + 1))
    ticks = "".join(f'<text x="{x(n):.1f}" y="{pad_t + h + 14}" text-anchor="middle">{n}</text>'
                    for n in range(n_max + 1))
    grid = "".join(f'<line x1="{pad_l}" y1="{y(top * f):.1f}" x2="{pad_l + w}" y2="{y(top * f):.1f}" stroke="#eee"/>'
                   f'<text x="{pad_l - 4}" y="{y(top * f) + 4:.1f}" text-anchor="end">{top * f:,.0f}</text>'
                   for f in (0.25, 0.5, 0.75))
    def hline(v, colour, label, dash=""):
        return (f'<line x1="{pad_l}" y1="{y(v):.1f}" x2="{pad_l + w}" y2="{y(v):.1f}" stroke="{colour}" '
                f'stroke-dasharray="{dash}"/><text x="{pad_l + w - 2}" y="{y(v) - 4:.1f}" text-anchor="end" '
                f'fill="{colour}">{label}</text>')

    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="11">', f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad_l}" y="16" font-size="13">Webhooks/s of N web boxes (2 cores) sharing one PostgreSQL '
        f'({proj["pg_cores"]} cores), {int(proj["headroom"] * 100)} % CPU</text>', grid,
        hline(proj["postgresql_ceiling"], "#d1242f", f"PostgreSQL ceiling {proj['postgresql_ceiling']:,}/s"),
        hline(demand[0], "#888", f"5,000 seats at peak: {demand[0]:,.0f}/s", "4 3"),
        hline(demand[1], "#888", f"its 3x bursts: {demand[1]:,.0f}/s", "2 2"),
        f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{web}"/>',
        f'<polyline fill="none" stroke="#1f6feb" stroke-width="1.2" stroke-dasharray="5 3" points="{measured}"/>',
        f'<text x="{pad_l}" y="32" fill="#1f6feb">solid: web boxes, CPU-bound ({proj["per_web_box_cpu_bound"]:,}/s '
        f'each, {out["date"]})</text>',
        f'<text x="{pad_l}" y="46" fill="#1f6feb">dashed: as measured on this box, sharing it with PostgreSQL and '
        f'the load ({proj["per_box_measured_shared"]:,.0f}/s each)</text>',
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#888"/>', ticks,
        f'<text x="{pad_l + w}" y="{height - 4}" text-anchor="end">web boxes</text>', "</svg>"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="14,28,42,56", help="new calls per second, one step each")
    ap.add_argument("--step-seconds", type=float, default=30.0)
    ap.add_argument("--speedup", type=float, default=20.0, help="simulated seconds per wall second")
    ap.add_argument("--agents", type=int, default=400)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers (the Procfile's WEB_CONCURRENCY default)")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--pg-cores", type=int, default=2, help="cores of the projected shared PostgreSQL server")
    ap.add_argument("--keep-going", action="store_true", help="run every step even after one broke")
    ap.add_argument("--pg-admin", default=PG_ADMIN)
    ap.add_argument("--redis-url", default=REDIS_URL)
    ap.add_argument("--chart", default=None, help="write the projection to N boxes as an SVG")
    args = ap.parse_args(argv)
    out = run([float(r) for r in args.rates.split(",")], args.step_seconds, args.speedup, args.agents,
              args.workers, args.threads, args.pg_admin, args.redis_url, args.keep_going)
    # No step held (a machine busy with other work): project from the first step's CPU, and say so.
    first = out["steps"][0] if out["steps"] else None
    basis = out["sustainable"] or (first and {**first, "webhooks_per_s": first["webhooks_per_s_arriving"]})
    if basis:
        out["projection"] = {**projection(basis, os.cpu_count() or 2, args.pg_cores),
                             "basis": "sustainable step" if out["sustainable"] else "first step (none held)"}
        per_call = out["steps"][0]["webhooks_per_call"]
        demand = (14 * per_call, 3 * 14 * per_call)
        out["demand_5000_seats"] = {"webhooks_per_s": round(demand[0]), "burst": round(demand[1])}
        print(f"projection ({out['projection']['basis']}): {out['projection']}; a 5,000-seat centre's peak "
              f"{demand[0]:.0f} webhooks/s, bursts {demand[1]:.0f}/s", flush=True)
        if args.chart:
            Path(args.chart).write_text(chart(out, out["projection"], demand), encoding="utf-8")
    print(json.dumps(out, indent=2, default=str))
    ok = out["sustainable"] is not None and out["reconcile"]["mismatches"] == 0 \
        and out["reconcile"]["legs_left_open"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
