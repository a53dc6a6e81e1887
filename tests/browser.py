"""What the Playwright tests share: Debian's Chromium, a page at 1366 px, screenshots, and
logging in (``AuthActions``, the Flask tutorial's auth helper, for a browser page).

A test module imports the fixtures it uses (``from tests.browser import chromium, page``) and
serves the app itself on its own copy of the migrated database (``database_copy``, ``serving``)."""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from store.db import Database
from tests.dashboard.seed import PASSWORD, USERS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path("/tmp/dashboard-shots")
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


class AuthActions:
    """Log a browser page in as one of the seeded users, in a language, and out again."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url

    def login(self, role: str, lang: str | None = None):
        """The login form as a person fills it; ``lang`` is picked on the login page first."""
        page = self.page
        page.goto(self.url + "/login")
        if lang:
            page.click(f"button[name=lang][value={lang}]")
            page.wait_for_load_state()
        page.fill("input[name=email]", USERS[role])
        page.fill("input[name=password]", PASSWORD)
        page.click("#login")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{role} was not logged in"
        return page

    def logout(self):
        self.page.click("#logout")
        self.page.wait_for_load_state()


def database_copy(folder: Path, sqlite_template: Path) -> Database:
    """A fresh SQLite database for one browser module: a copy of the migrated template."""
    path = folder / "aftercall.db"
    shutil.copy(sqlite_template, path)
    return Database(f"sqlite:///{path}")


@contextmanager
def serving(app):
    """The app on a free loopback port in a thread (Chromium loads it over HTTP); yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def auth(page, server):
    """Logs the test's page in to the module's ``server`` (a fixture giving its ``url``)."""
    return AuthActions(page, server["url"])
