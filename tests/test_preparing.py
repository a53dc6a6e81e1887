"""`make run`'s first minutes: the port answers at once with the preparation's step and progress
(scripts/preparing.py, started by scripts/run.sh before anything else), in English and Russian."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_the_port_says_the_demo_is_being_prepared_and_how_far_it_got(tmp_path):
    log, port = tmp_path / "first-run.log", _free_port()
    log.write_text("== 1/5 installing\n== 2/5 migrating the database\n")
    server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "preparing.py"), str(port), str(log)])
    try:
        for _ in range(100):
            try:
                status, page, headers = _get(f"http://127.0.0.1:{port}/scorecards")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        assert status == 503 and headers["Retry-After"] == "3"          # any path: not the dashboard yet
        assert "The demo is being prepared" in page and "Демо готовится" in page
        assert "Step 2 of 5: migrating the database" in page and "обновление базы данных" in page
        with log.open("a") as f:                                        # the emulator's progress bar, as tqdm draws it
            f.write("== 4/5 emulating a week of calls\nsimulate:  46%|████▌     | 637/1395 [00:28<00:33]\r"
                    "simulate:  62%|██████▏   | 887/1438 [00:47<00:29]")
        _, page, _ = _get(f"http://127.0.0.1:{port}/")
        assert "Step 4 of 5: emulating a week of calls (62%)" in page and "эмуляция недели звонков" in page
        assert 'value="72"' in page                                      # (3 steps + 0.62) of 5
    finally:
        server.terminate()
        server.wait(5)
