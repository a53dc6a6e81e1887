"""A platform deploy speaks Russian: the compiled catalogs are committed and match the ``.po``,
and a copy of the tree deployed the Procfile's way (no ``make``) answers a Russian browser in
Russian."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bench.servers import _stop, free_port
from tests.conftest import AUTH_TOKEN, CATALOGS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _translations(catalog) -> dict:
    """(context, id) → translation, for every translated, non-fuzzy message (plurals as tuples)."""
    def plain(text):
        return text if isinstance(text, str) else tuple(text)
    return {(m.context, plain(m.id)): plain(m.string) for m in catalog
            if m.id and not m.fuzzy and (m.string if isinstance(m.string, str) else any(m.string))}


def test_every_compiled_catalog_matches_its_po():
    pos = sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po"))
    assert pos
    for po in pos:
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} is missing: run `make translations` and commit it"
        with po.open("rb") as f:
            source = _translations(read_po(f, locale=po.parts[-3]))
        with mo.open("rb") as f:
            compiled = _translations(read_mo(f))
        assert compiled == source, f"{mo} is stale: run `make translations` and commit it"


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_a_procfile_deploy_answers_a_russian_browser_in_russian(tmp_path):
    """The files a clone has (tracked, or new and not ignored), then ``release``, then ``web``."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    app = tmp_path / "app"
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (app / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, app / name)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PYTHON"))}
    env.update(PATH=f"{BIN}:{env['PATH']}", DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.db'}", REDIS_URL="",
               SECRET_KEY="deploy-test", TWILIO_AUTH_TOKEN=AUTH_TOKEN, PORT=str(port), WEB_CONCURRENCY="1",
               ANSWER_SPOOL_DIR=str(tmp_path / "spool"))
    procfile = _procfile()
    subprocess.run(["bash", "-c", procfile["release"]], cwd=app, env=env, check=True, timeout=180,
                   capture_output=True)
    web = subprocess.Popen(["bash", "-c", f"exec {procfile['web']}"], cwd=app, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        page = None
        for _ in range(600):
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", headers={"Accept-Language": "ru"}, timeout=2)
                break
            except httpx.TransportError:
                assert web.poll() is None, "the web process exited"
                time.sleep(0.1)
        assert page is not None and page.status_code == 200
        assert "Войти" in page.text and "Log in" not in page.text
        assert "Log in" in httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).text   # English stays English
    finally:
        _stop(web)
