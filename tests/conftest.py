"""Shared fixtures: real databases (SQLite file and PostgreSQL), a signed Twilio client.

Each test session gets its own PostgreSQL database (created from the ``test`` database's
server and dropped at the end), migrated once with Alembic; tables are emptied between
tests. Set ``TEST_BACKENDS=sqlite`` or ``postgresql`` to run one backend only.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from aftercall.app import create_app
from aftercall.config import UNPACED, Settings
from store.db import Database, upgrade
from store.models import Base

PG_ADMIN = os.environ.get("TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AUTH_TOKEN = "test-auth-token"
BASE = "http://localhost"
BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
CATALOGS = Path(__file__).resolve().parents[1] / "dashboard" / "translations"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url():
    name = f"aftercall_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# For a test of PostgreSQL behaviour (locks, backends, several server processes): runs on
# PostgreSQL only, instead of being collected for SQLite and skipped there.
postgresql_only = pytest.mark.parametrize("database", [b for b in BACKENDS if b == "postgresql"], indirect=True)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path) -> Database:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "aftercall.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
    else:
        db = Database(request.getfixturevalue("pg_url"))
        with db.engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    db.dispose()


def make_settings(database: Database, **overrides) -> Settings:
    env = {"DATABASE_URL": database.url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SECRET_KEY": "test-secret",
           **UNPACED, **overrides}
    return Settings.from_env(env)


@pytest.fixture
def app(database):
    app = create_app(make_settings(database), db=database)
    app.config["TESTING"] = True
    return app


class TwilioClient:
    """Posts webhooks the way Twilio does: form-encoded and signed for the full URL."""

    def __init__(self, client, token: str = AUTH_TOKEN):
        self.client = client
        self.validator = RequestValidator(token)

    def post(self, path: str, params: dict | None = None, *, sign: bool = True, headers: dict | None = None):
        params = {k: str(v) for k, v in (params or {}).items()}
        headers = dict(headers or {})
        if sign:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(BASE + path, params)
        return self.client.post(path, data=params, headers=headers, base_url=BASE)


@pytest.fixture
def twilio(app) -> TwilioClient:
    return TwilioClient(app.test_client())


@pytest.fixture
def db_session(database):
    with database.session() as s:
        yield s
