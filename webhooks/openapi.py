"""``/api/openapi.json``: the JSON API's OpenAPI 3 description, and the rules every
operation shares.

The document is a static file next to the views it describes; a test checks that every
``/api`` route is in it, so it cannot silently drift. The shared rules: no NUL character in
the path, query or JSON body (no schema allows one, and PostgreSQL text cannot hold it, so
it would otherwise surface as a database error, a 500, instead of a clear 400); JSON nested
deeper than ``MAX_JSON_DEPTH`` is malformed (it would exhaust the parser's recursion); and
every error under ``/api/`` is JSON ``{"error": …}``, routing and size errors included.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError

from webhooks.security import api_error

SPEC_FILE = Path(__file__).with_name("openapi.json")
bp = Blueprint("openapi", __name__)
MAX_JSON_DEPTH = 32   # our bodies are two levels deep; OpenAPI-fuzzed ones a few more


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


def _depth(value) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


class DepthLimitedJSON(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply is malformed (a ValueError, so a 400
    from ``get_json``, None from ``get_json(silent=True)``), not a RecursionError and a 500."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return value


def _as_json(exc: Exception):
    if not isinstance(exc, HTTPException) or isinstance(exc, InternalServerError):
        return api_error(500, "internal error; it was logged")
    response = api_error(exc.code or 500, exc.description or exc.name)
    for name, value in exc.get_headers():   # Allow (405), Retry-After (429)
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def json_errors_under_api(app: Flask) -> None:
    """Every error under ``/api/`` answers JSON. The dashboard's handlers (HTML pages) are
    wrapped so that an ``/api`` request gets JSON from them too; call after they are registered."""
    def api_first(handler):
        def handle(exc):
            return _as_json(exc) if request.path.startswith("/api/") else handler(exc)
        return handle

    for handlers in app.error_handler_spec[None].values():
        for cls, handler in list(handlers.items()):
            handlers[cls] = api_first(handler)
    for cls in (HTTPException, InternalServerError):
        if cls not in app.error_handler_spec[None][getattr(cls, "code", None)]:
            app.register_error_handler(cls, api_first(lambda exc: exc))
