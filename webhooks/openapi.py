"""``/api/openapi.json``: the JSON API's OpenAPI 3 description, and the one input rule every
operation shares.

The document is a static file next to the views it describes; a test checks that every
``/api`` route is in it, so it cannot silently drift. The shared rule: no NUL character in
the path, query or JSON body. No schema allows one, and PostgreSQL text cannot hold it, so
it would otherwise surface as a database error (a 500) instead of a clear 400.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, jsonify, request

from webhooks.security import api_error

SPEC_FILE = Path(__file__).with_name("openapi.json")
bp = Blueprint("openapi", __name__)


@lru_cache(maxsize=1)
def spec() -> dict:
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(spec())


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


@bp.before_app_request
def refuse_nul():
    if not request.path.startswith("/api/") or request.path == "/api/openapi.json":
        return None
    if _has_nul(request.path) or any(_has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True)) \
            or (request.is_json and _has_nul(request.get_json(silent=True))):
        return api_error(400, "NUL characters are not allowed in the path, query or body")
    return None
