"""``/readyz``: readiness. 200 with every check when the process can do its work; 503 naming
the failing check when the database is unreachable or behind the migrations' head, Redis is
configured and unreachable, or the answer spool cannot be written. Unauthenticated, and it
never calls Twilio."""
from __future__ import annotations

import json
import shutil

from alembic import command

from aftercall import create_app
from emulator.twilio_rest import FakeTwilioRest
from store.db import Database, alembic_config, head_revisions
from tests.conftest import AUTH_TOKEN, REDIS_URL, make_settings

ACCOUNT = "AC" + "0" * 32


def _ready(settings, db):
    resp = create_app(settings, db=db).test_client().get("/readyz")
    return resp.status_code, resp.get_json()


def test_ready_without_redis(database, tmp_path):
    with FakeTwilioRest(ACCOUNT, AUTH_TOKEN) as rest:
        settings = make_settings(database, ANSWER_SPOOL_DIR=str(tmp_path / "spool"), TWILIO_ACCOUNT_SID=ACCOUNT,
                                 TWILIO_API_BASE_URL=rest.url)
        status, body = _ready(settings, database)
        assert rest.requests == []   # never Twilio
    assert status == 200, body
    assert body["ready"] is True
    assert set(body["checks"]) == {"database", "migrations", "redis", "spool"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["redis"]["detail"].startswith("not configured")
    assert list((tmp_path / "spool").iterdir()) == []   # the probe leaves nothing to replay


def test_ready_with_redis(database, tmp_path):
    status, body = _ready(make_settings(database, REDIS_URL=REDIS_URL, ANSWER_SPOOL_DIR=str(tmp_path)), database)
    assert status == 200, body
    assert body["checks"]["redis"] == {"ok": True, "detail": "reachable"}


def test_unreachable_redis_is_not_ready(database, tmp_path):
    settings = make_settings(database, REDIS_URL="redis://127.0.0.1:1/0", ANSWER_SPOOL_DIR=str(tmp_path))
    status, body = _ready(settings, database)
    assert status == 503
    assert body["ready"] is False
    assert body["checks"]["redis"]["ok"] is False
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["redis"]


def test_unreachable_database_is_not_ready_and_says_no_more(database, tmp_path):
    gone = Database("postgresql+psycopg://secret-user:secret-pass@127.0.0.1:1/none")
    status, body = _ready(make_settings(database, ANSWER_SPOOL_DIR=str(tmp_path)), gone)
    assert status == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["spool"]["ok"] is True
    assert "secret" not in json.dumps(body)


def test_a_database_behind_the_head_is_not_ready(sqlite_template, tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(sqlite_template, path)
    old = Database(f"sqlite:///{path}")
    head = sorted(head_revisions())[0]
    command.downgrade(alembic_config(old.url), "-1")   # the code is one migration ahead of this database
    try:
        status, body = _ready(make_settings(old, ANSWER_SPOOL_DIR=str(tmp_path / "spool")), old)
    finally:
        old.dispose()
    assert status == 503
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is False
    assert f"head is {head}" in body["checks"]["migrations"]["detail"]


def test_an_unwritable_spool_is_not_ready(database, tmp_path):
    (tmp_path / "a-file").write_text("")
    status, body = _ready(make_settings(database, ANSWER_SPOOL_DIR=str(tmp_path / "a-file" / "spool")), database)
    assert status == 503
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["spool"]
