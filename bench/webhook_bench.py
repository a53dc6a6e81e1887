"""Benchmark 1: the full survey-answer webhook against a bare constant-TwiML Flask endpoint.

Both run under the same gunicorn settings on loopback, one after the other in one run, and
are driven by ``wrk`` with pre-signed requests (``bench/signed.lua``): every request is a
distinct, validly signed survey answer for a real leg, so the full path runs each time —
signature check, the one-statement write (leg check, webhook event, answer; durable commit),
TwiML.

The machine is shared (2 cores, other suites running), so besides req/s and latency the run
reports what does not depend on the neighbours as much: the CPU each request cost, summed
over the gunicorn processes, the PostgreSQL backends serving them and wrk itself
(``cpu_ms_per_request``), and the throughput that cost allows on this many cores
(``cpu_bound_rps``); plus the load average before and after. Compare ratios (full / bare).

    python -m bench.webhook_bench --connections 32 --seconds 10
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from twilio.request_validator import RequestValidator

from bench.data import create_database, libpq, survey_ready
from bench.servers import ROOT, free_port, gunicorn, worker_pids

TOKEN = "bench-auth-token"
ANSWERS = (("0", "1"), ("1", "4"), ("2", "2"))   # adequate yes, satisfaction 4, nothing else


def signed_requests(base: str, legs: list[tuple[str, int]], path: Path) -> int:
    validator = RequestValidator(TOKEN)
    n = 0
    with path.open("w") as out:
        for sid, leg in legs:
            for q, digits in ANSWERS:
                url = f"/voice/survey?leg={leg}&q={q}&attempt=1&lang=en"
                params = {"CallSid": sid, "AccountSid": "AC0", "From": "+15550001111", "To": "+15559990000",
                          "CallStatus": "in-progress", "Digits": digits}
                out.write(f"{url}\t{urlencode(params)}\t{validator.compute_signature(base + url, params)}\n")
                n += 1
    return n


def _cpu_seconds(pids) -> float:
    """User + system CPU of these processes so far (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _backends(url: str | None) -> list[int]:
    if not url:
        return []
    with psycopg.connect(libpq(url)) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()")]


def wrk(base: str, requests_file: Path, warm_file: Path, connections: int, seconds: int, threads: int,
        server_pids: list[int] = (), db_url: str | None = None) -> dict:
    # A second of other legs' answers first, so every worker has its pool, prepared statements, caches.
    subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", "1s", "-s", str(ROOT / "bench" / "signed.lua"),
                    base, "--", str(warm_file), "1"], capture_output=True, text=True, check=True)
    backends = _backends(db_url)
    server0, db0 = _cpu_seconds(server_pids), _cpu_seconds(backends)
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
                          "-s", str(ROOT / "bench" / "signed.lua"), base, "--", str(requests_file), str(threads)],
                         capture_output=True, text=True, check=True).stdout
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server, db = _cpu_seconds(server_pids) - server0, _cpu_seconds(backends) - db0
    load_gen = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
    cpu = server + db + load_gen
    line = next(l for l in out.splitlines() if l.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    n = max(result["requests"], 1)
    result["cpu_ms_per_request"] = round(1000 * cpu / n, 3)
    result["cpu_ms_split"] = {"gunicorn": round(1000 * server / n, 3), "postgresql": round(1000 * db / n, 3),
                              "wrk": round(1000 * load_gen / n, 3)}
    result["cpu_bound_rps"] = round((os.cpu_count() or 1) * 1000 / max(result["cpu_ms_per_request"], 1e-9), 1)
    return result


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run(admin_url: str, connections: int, seconds: int, workers: int, threads: int, legs: int) -> dict:
    url = create_database(admin_url, "aftercall_bench_web")
    warm_pairs = survey_ready(url, 500, prefix="CAwarm")   # a warm-up second, on legs of its own
    pairs = survey_ready(url, legs)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wrk_threads = 2
    with tempfile.TemporaryDirectory() as tmp:
        reqs, warm = Path(tmp) / "requests.tsv", Path(tmp) / "warm.tsv"
        total = signed_requests(base, pairs, reqs)
        signed_requests(base, warm_pairs, warm)
        load_before = _load()
        with gunicorn("bench.bare_app:app", {}, workers=workers, threads=threads, port=port) as (b, master):
            bare = wrk(b, reqs, warm, connections, seconds, wrk_threads, [master.pid, *worker_pids(master)])
        env = {"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "bench",
               "ANSWER_SPOOL_DIR": str(Path(tmp) / "spool")}
        with gunicorn("aftercall:create_app()", env, workers=workers, threads=threads, port=port) as (b, master):
            full = wrk(b, reqs, warm, connections, seconds, wrk_threads, [master.pid, *worker_pids(master)], url)
        load_after = _load()
        spooled = sum(1 for p in (Path(tmp) / "spool").glob("*") for _ in p.open()) \
            if (Path(tmp) / "spool").is_dir() else 0
    with psycopg.connect(libpq(url)) as conn:
        stored = conn.execute("SELECT count(*) FROM survey_answers WHERE call_sid LIKE 'CAbench%'").fetchone()[0]
    sent = min(full["requests"], total)
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "settings": {"gunicorn_workers": workers, "gunicorn_threads": threads, "connections": connections,
                     "seconds": seconds, "wrk_threads": wrk_threads, "distinct_requests": total},
        "load_average_1min": {"before": load_before, "after": load_after},
        "bare": bare, "full": full,
        "ratio_rps": round(full["rps"] / bare["rps"], 3),
        "ratio_cpu_bound_rps": round(full["cpu_bound_rps"] / bare["cpu_bound_rps"], 3),
        "answers_stored": stored, "answers_spooled": spooled, "distinct_answers_sent": sent,
        "targets": {"half_of_bare": full["rps"] >= bare["rps"] / 2, "1000_rps": full["rps"] >= 1000,
                    "p99_under_50ms": full["p99_ms"] < 50,
                    "no_errors": full["status_errors"] + full["timeouts"] + full["connect_errors"] == 0},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--legs", type=int, default=12000)
    args = parser.parse_args()
    print(json.dumps(run(args.admin_url, args.connections, args.seconds, args.workers, args.threads, args.legs),
                     indent=2))


if __name__ == "__main__":
    main()
