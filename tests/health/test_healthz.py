"""``/healthz``: liveness. The process answers ``{"ok": true}`` whatever its dependencies do."""
from __future__ import annotations

from aftercall import create_app
from store.db import Database
from tests.conftest import make_settings


def test_healthz_answers_ok_unauthenticated(app):
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"ok": True}


def test_healthz_answers_ok_with_every_dependency_down(database, tmp_path):
    (tmp_path / "a-file").write_text("")
    settings = make_settings(database, REDIS_URL="redis://127.0.0.1:1/0",
                             ANSWER_SPOOL_DIR=str(tmp_path / "a-file" / "spool"))
    gone = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    resp = create_app(settings, db=gone).test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"ok": True}
