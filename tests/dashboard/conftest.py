"""Fixtures for the dashboard: a seeded app, and a test client that logs in like a browser."""
from __future__ import annotations

import re

import pytest

from tests.dashboard.seed import PASSWORD, USERS, seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A Flask test client that keeps cookies and sends the page's CSRF token with forms."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, path, **kw):
        resp = self.client.get(path, **kw)
        found = CSRF.search(resp.get_data(as_text=True)) if resp.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return resp

    def post(self, path, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            data["csrf_token"] = self.token
        return self.client.post(path, data=data, **kw)

    def login(self, role: str):
        self.get("/login")
        resp = self.post("/login", {"email": USERS[role], "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        self.get(resp.headers["Location"])  # the landing page carries the new session's CSRF token
        return resp


@pytest.fixture
def seeded(app, database):
    return seed(database)


@pytest.fixture
def browser(app, seeded):
    return Browser(app.test_client())
