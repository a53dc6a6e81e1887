"""Start gunicorn on loopback for benchmarks and load tests, and stop exactly what was started."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app: str, env: dict, *, workers: int = 2, threads: int = 1, port: int | None = None,
             health: str = "/healthz", startup_seconds: float = 90):
    """Run ``gunicorn app`` (e.g. ``'aftercall:create_app()'``); yields (base URL, master Popen).

    Its stderr goes to a temporary file, never a pipe nobody drains: a pipe fills up (64 KB of
    log lines) and then blocks every worker that logs, which would stall the server under test."""
    port = port or free_port()
    cmd = [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
           "--backlog", "2048", "--log-level", "warning", "--graceful-timeout", "2", app]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                if httpx.get(base + health, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                log.seek(0)
                raise RuntimeError(f"gunicorn did not start: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield base, proc
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)   # the group of the gunicorn started here
            proc.wait()


def worker_pids(master: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
