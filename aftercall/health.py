"""Liveness and readiness for load balancers and orchestrators, unauthenticated and cheap.

``/healthz`` says the process answers, whatever its dependencies do (restart me only if this
fails). ``/readyz`` says it can do its work (send me traffic): the database answers and is
at the migrations' head, Redis answers when configured, the answer spool can be written.
It never calls Twilio, and a failure's reason is the check's own words, never a connection
string."""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, current_app, jsonify

from store.db import Database, head_revisions

bp = Blueprint("health", __name__)
REDIS_TIMEOUT_SECONDS = 1.0


@bp.get("/healthz")
def healthz():
    return jsonify({"ok": True})


@bp.get("/readyz")
def readyz():
    checks = readiness(current_app.extensions["db"], current_app.config["SETTINGS"].redis_url,
                       current_app.extensions["answer_spool"])
    ready = all(c["ok"] for c in checks.values())
    return jsonify({"ready": ready, "checks": checks}), 200 if ready else 503


def readiness(db: Database, redis_url: str, spool) -> dict[str, dict]:
    """Each check → ``{"ok": bool, "detail": str}``; the migrations are checked only when the
    database answers."""
    checks = {}
    try:
        current = db.revisions()
    except Exception as exc:   # any driver error: the database is not usable from here
        checks["database"] = {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
        checks["migrations"] = {"ok": False, "detail": "not checked: the database is unreachable"}
    else:
        head = _heads()
        checks["database"] = {"ok": True, "detail": "reachable"}
        checks["migrations"] = {"ok": current == head, "detail": (
            f"at head {', '.join(sorted(head))}" if current == head else
            f"at {', '.join(sorted(current)) or 'nothing'}, head is {', '.join(sorted(head))}: run the release step")}
    if redis_url:
        try:
            _redis(redis_url).ping()
            checks["redis"] = {"ok": True, "detail": "reachable"}
        except Exception as exc:   # refused, timed out, auth: not usable
            checks["redis"] = {"ok": False, "detail": f"unreachable ({type(exc).__name__})"}
    else:
        checks["redis"] = {"ok": True, "detail": "not configured: jobs run from the database"}
    try:
        spool.probe()
        checks["spool"] = {"ok": True, "detail": "writable"}
    except OSError as exc:
        checks["spool"] = {"ok": False, "detail": f"not writable ({exc.strerror or type(exc).__name__})"}
    return checks


@lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    """The code's migration heads: the files do not change while the process runs."""
    return frozenset(head_revisions())


@lru_cache(maxsize=4)
def _redis(url: str):
    from redis import Redis
    return Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
