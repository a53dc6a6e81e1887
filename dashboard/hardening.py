"""What guards the login and the pages: failed logins throttled, the usual response headers.

Failed logins (answered 401) are counted per account (the e-mail as typed, lower-cased) and per
client address with Flask-Limiter; once either count is used up the login answers 429 with a
message in the reader's language, before any password is checked. A successful login costs
nothing. The counters live in Redis when ``REDIS_URL`` is set (shared by every web worker),
else in the process's memory; while Redis is down they fall back to the process's memory (logged
as an error), so the login keeps working and stays throttled, per process. Limits are Flask-Limiter strings, e.g. "5 per 15 minutes";
see docs/operators.md.

Dashboard pages get a Content-Security-Policy that allows no inline script and no framing;
every response gets ``X-Content-Type-Options: nosniff``, and HSTS when the request came over
HTTPS. Twilio webhooks (/voice/) and the JSON APIs (/api/) keep their bodies and content types.

Flask-Limiter hooks itself into every request of the app; its limits here are on the login
view only, so its hooks are moved to the login's blueprint: a Twilio webhook does not pay for
them (they were about 15 % of the survey webhook's CPU).
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

from flask import Flask, flash, request
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

DEFAULT_ACCOUNT_LIMIT = "5 per 15 minutes"
DEFAULT_ADDRESS_LIMIT = "30 per 15 minutes"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"
LOGIN_BLUEPRINT = "auth"


class _LoudFallback(logging.Filter):
    """Flask-Limiter says it fell back to memory as a warning; it weakens the throttle (each web
    process counts alone), so the operator should see it as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "falling back to in-memory storage" in record.getMessage():
            record.levelno, record.levelname = logging.ERROR, "ERROR"
            record.msg, record.args = ("login throttle: Redis unreachable, counting failed logins in this "
                                       "process's memory until it answers again"), ()
        return True


def _account() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response) -> bool:
    return response.status_code == 401


@contextmanager
def _hooks_confined_to(app: Flask, blueprint: str):
    """Request hooks registered app-wide inside this block run for ``blueprint``'s requests only."""
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    before = [list(h.get(None, ())) for h in hooks]
    yield
    for registry, old in zip(hooks, before):
        added = [f for f in registry.get(None, ()) if f not in old]
        registry[None] = old
        registry.setdefault(blueprint, []).extend(added)


def init_app(app: Flask, exempt_prefixes: tuple[str, ...], env: dict | None = None) -> Limiter:
    """Throttle the login view's failed attempts and add the headers; returns the app's limiter."""
    env = dict(os.environ if env is None else env)
    redis_url = app.config["SETTINGS"].redis_url
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if redis_url:   # a Redis that does not answer must not hold a login for long
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, _LoudFallback) for f in limiter_log.filters):
        limiter_log.addFilter(_LoudFallback())
    limiter = Limiter(get_remote_address, default_limits=[])
    with _hooks_confined_to(app, LOGIN_BLUEPRINT):
        limiter.init_app(app)
    account = env.get("LOGIN_LIMIT_ACCOUNT") or DEFAULT_ACCOUNT_LIMIT
    address = env.get("LOGIN_LIMIT_ADDRESS") or DEFAULT_ADDRESS_LIMIT
    view = app.view_functions[f"{LOGIN_BLUEPRINT}.login"]
    view = limiter.limit(account, key_func=_account, methods=["POST"], deduct_when=_failed,
                         scope="login-account")(view)
    view = limiter.limit(address, methods=["POST"], deduct_when=_failed, scope="login-address")(view)
    app.view_functions[f"{LOGIN_BLUEPRINT}.login"] = view
    # An invitation token is a password in a URL: guessing ones is throttled per address too.
    invite = app.view_functions[f"{LOGIN_BLUEPRINT}.invite"]
    app.view_functions[f"{LOGIN_BLUEPRINT}.invite"] = limiter.limit(
        address, deduct_when=lambda r: r.status_code == 404, scope="invite-address")(invite)

    @app.errorhandler(429)
    def _too_many(exc):
        from dashboard.web import render
        flash(gettext("Too many failed logins for this account or from this address; "
                      "wait a few minutes, then try again."), "error")
        return render("login.html", email=request.form.get("email", "")), 429

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if not request.path.startswith(exempt_prefixes):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return limiter
