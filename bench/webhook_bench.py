"""Benchmark 1: the full survey-answer webhook against a bare constant-TwiML Flask endpoint.

Both run under the same gunicorn settings on loopback, one after the other in one run, and
are driven by ``wrk`` with pre-signed requests (``bench/signed.lua``): every request is a
distinct, validly signed survey answer for a real leg, so the full path runs each time —
signature check, idempotency lookup, answer insert, webhook-event insert, commit, TwiML.
The result is reported as ratios (full / bare) so a noisy machine matters less.

    python -m bench.webhook_bench --connections 32 --seconds 10
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from twilio.request_validator import RequestValidator

from bench.data import create_database, libpq, survey_ready
from bench.servers import ROOT, free_port, gunicorn

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


def wrk(base: str, requests_file: Path, connections: int, seconds: int, threads: int) -> dict:
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
                          "-s", str(ROOT / "bench" / "signed.lua"), base, "--", str(requests_file), str(threads)],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    return result


def run(admin_url: str, connections: int, seconds: int, workers: int, threads: int, legs: int) -> dict:
    url = create_database(admin_url, "aftercall_bench_web")
    pairs = survey_ready(url, legs)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wrk_threads = 2
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requests.tsv"
        total = signed_requests(base, pairs, reqs)
        with gunicorn("bench.bare_app:app", {}, workers=workers, threads=threads, port=port) as (b, _):
            bare = wrk(b, reqs, connections, seconds, wrk_threads)
        env = {"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "bench",
               "ANSWER_SPOOL_DIR": str(Path(tmp) / "spool")}
        with gunicorn("aftercall:create_app()", env, workers=workers, threads=threads, port=port) as (b, _):
            full = wrk(b, reqs, connections, seconds, wrk_threads)
        spooled = sum(1 for p in (Path(tmp) / "spool").glob("*") for _ in p.open()) \
            if (Path(tmp) / "spool").is_dir() else 0
    with psycopg.connect(libpq(url)) as conn:
        stored = conn.execute("SELECT count(*) FROM survey_answers").fetchone()[0]
    sent = min(full["requests"], total)
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "settings": {"gunicorn_workers": workers, "gunicorn_threads": threads, "connections": connections,
                     "seconds": seconds, "wrk_threads": wrk_threads, "distinct_requests": total},
        "bare": bare, "full": full,
        "ratio_rps": round(full["rps"] / bare["rps"], 3),
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
