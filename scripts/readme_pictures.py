"""The README's pictures: the demo's scorecards and handle-time chart, shot in Chromium at 1366 px.

Seeds the demo (as ``make run`` does) into a scratch SQLite file, serves it, logs in as the demo
supervisor and writes ``docs/images/scorecards.png`` and ``docs/images/handle-time.png``.
Re-run after a change to those pages:

    .venv/bin/python scripts/readme_pictures.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "aftercall-demo"


def seed(env: dict) -> None:
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "aftercall"]
    for args in (["db", "upgrade"], ["users", "create", "supervisor@demo.local", "--role", "supervisor",
                                     "--password-stdin"], ["demo"], ["flags", "recompute"]):
        print("flask", " ".join(args), file=sys.stderr)
        subprocess.run(flask + args, env=env, cwd=ROOT, input=PASSWORD + "\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/demo.db", "TWILIO_AUTH_TOKEN": "demo-auth-token",
               "SECRET_KEY": "readme-pictures", "REDIS_URL": ""}
        seed(env)
        os.environ.update(env)
        from aftercall import create_app
        server = make_server("127.0.0.1", 0, create_app(), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        from playwright.sync_api import sync_playwright
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(url + "/login")
            page.fill("input[name=email]", "supervisor@demo.local")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login")
            for path, name in (("/scorecards", "scorecards"), ("/handle-time", "handle-time")):
                page.goto(url + path)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
                print(OUT / f"{name}.png", file=sys.stderr)
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
