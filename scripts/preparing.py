"""While `make run` prepares the demo, the port already answers: a page (English and Russian)
that says the demo is being prepared, which step is running and how far it got, and reloads
itself until the dashboard takes the port over.

Standard library only (it runs before anything else is ready). scripts/run.sh starts it with
the port and the log its steps write to, and stops it just before gunicorn binds the port:

    python3 scripts/preparing.py PORT LOG
"""
from __future__ import annotations

import html
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STEP = re.compile(r"^== (\d+)/(\d+) (.*)$")
PERCENT = re.compile(r"(\d{1,3})%\|")
STEPS_RU = {"installing": "установка", "migrating the database": "обновление базы данных", "creating the demo users": "создание пользователей",
            "emulating a week of calls": "эмуляция недели звонков", "finding flags": "поиск нарушений",
            "starting": "запуск"}
PAGE = """<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Aftercall: preparing the demo</title>
<style>body{{font:16px system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2939}}
progress{{width:100%;height:1.2rem}}.muted{{color:#667085}}</style></head><body>
<h1>Aftercall</h1>
<p id="en"><b>The demo is being prepared.</b> Step {step} of {steps}: {name}{pct}. The first start takes a
few minutes (up to about seven on a busy two-core machine); this page reloads itself and the
dashboard opens here when it is ready.</p>
<p id="ru" lang="ru"><b>Демо готовится.</b> Шаг {step} из {steps}: {name_ru}{pct}. Первый запуск занимает
несколько минут (на загруженной двухъядерной машине — до семи); страница обновляется сама, и панель
откроется здесь, когда всё будет готово.</p>
<progress id="progress" max="100" value="{done}"></progress>
<p class="muted">{last}</p>
</body></html>"""


def progress(log: Path) -> dict:
    """The step the log is at ("== 2/4 name" lines written by run.sh) and the last progress shown."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    lines = [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]
    step, steps, name = 1, 5, "starting"
    for line in lines:
        if m := STEP.match(line):
            step, steps, name = int(m[1]), int(m[2]), m[3]
    last = lines[-1] if lines else ""
    found = PERCENT.findall(last)
    pct = int(found[-1]) if found else None
    done = round(100 * ((step - 1) + (pct or 0) / 100) / steps)
    return {"step": step, "steps": steps, "name": name, "pct": pct, "done": done, "last": last[-160:]}


class Preparing(BaseHTTPRequestHandler):
    log_path = Path("instance/first-run.log")

    def do_GET(self):   # noqa: N802  (http.server's name)
        p = progress(self.log_path)
        body = PAGE.format(step=p["step"], steps=p["steps"], name=html.escape(p["name"]),
                           name_ru=html.escape(STEPS_RU.get(p["name"], p["name"])),
                           pct=f" ({p['pct']}%)" if p["pct"] is not None else "", done=p["done"],
                           last=html.escape(p["last"])).encode()
        self.send_response(503)             # not the dashboard yet: nothing should cache or index it
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Retry-After", "3")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    port, log = int(sys.argv[1]), Path(sys.argv[2])
    Preparing.log_path = log
    ThreadingHTTPServer(("127.0.0.1", port), Preparing).serve_forever()


if __name__ == "__main__":
    main()
