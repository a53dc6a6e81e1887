"""The supervisor, HR, admin and agent dashboard: server-rendered pages behind a login.

``init_app`` adds login (Flask-Login), CSRF protection for every form (Flask-WTF), expiring
sessions and the blueprints. Twilio webhooks (``/voice/``) and token APIs (``/api/``) keep
their own authentication and are exempt from CSRF and the login.
"""
from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from flask_babel import gettext
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from dashboard.auth import can, login_manager

csrf = CSRFProtect()
EXEMPT_PREFIXES = ("/voice/", "/api/", "/sms/", "/followup/voice/", "/callback/voice/")   # Twilio-signed or token-authenticated
DEFAULT_SESSION_HOURS = 8.0
MAX_ID = 2**31 - 1   # PostgreSQL INTEGER


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id in a URL, a whole number from 1 that fits an INTEGER column, so
    an absurd one is a 404 like any unknown id, not an overflow in the database driver."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


def _holds_nul() -> bool:
    """PostgreSQL text cannot hold a NUL, and no dashboard field has a use for one."""
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        pairs += request.form.items(multi=True)
    return "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in pairs)


def _hours(raw: str | None) -> float:
    if raw in (None, ""):
        return DEFAULT_SESSION_HOURS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"SESSION_LIFETIME_HOURS must be a number, got {raw!r}") from None
    if not 0 < value <= 24 * 7:
        raise ValueError("SESSION_LIFETIME_HOURS must be within (0, 168]")
    return value


def configure(app: Flask, env: dict | None = None) -> None:
    """Session settings: an 8 h (one shift) absolute lifetime; cookies HttpOnly, SameSite=Lax,
    and Secure whenever the public URL is HTTPS (or SESSION_COOKIE_SECURE says so)."""
    env = dict(os.environ if env is None else env)
    settings = app.config["SETTINGS"]
    secure = env.get("SESSION_COOKIE_SECURE")
    app.config.update(
        PERMANENT_SESSION_LIFETIME=timedelta(hours=_hours(env.get("SESSION_LIFETIME_HOURS"))),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(secure.strip().lower() in {"1", "true", "yes", "on"} if secure
                               else settings.public_base_url.startswith("https://")),
        SESSION_COOKIE_NAME="aftercall_session",
        WTF_CSRF_CHECK_DEFAULT=False,   # checked below, for everything but webhooks and token APIs
        WTF_CSRF_TIME_LIMIT=None,       # the token lives as long as the session does
    )


def init_app(app: Flask) -> None:
    configure(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.url_map.converters["id"] = IdConverter

    @app.before_request
    def _refuse_nul():
        if not request.path.startswith(EXEMPT_PREFIXES) and _holds_nul():
            return render_template("error.html", message=gettext(
                "The request contained a NUL character, which no field may hold; nothing was done.")), 400

    @app.before_request
    def _csrf():
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not request.path.startswith(EXEMPT_PREFIXES):
            csrf.protect()

    from dashboard import admin, auth_views, calls, callbacks, customers, flags, hr, me, profile, supervise
    for module in (auth_views, supervise, calls, flags, callbacks, customers, profile, hr, admin, me):
        app.register_blueprint(module.bp)

    from dashboard import hardening
    app.extensions["login_limiter"] = hardening.init_app(app, EXEMPT_PREFIXES)

    from dashboard import i18n
    i18n.init_app(app)
    from dashboard.reasons import flag_reason, flag_test
    app.jinja_env.globals.update(can=can, flag_reason=flag_reason, flag_test=flag_test)

    from dashboard.templating import register_filters
    register_filters(app)

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc):
        return render_template("error.html", message=gettext(
            "The form expired or was not sent from this site; please try again.")), 400

    @app.errorhandler(BadRequest)
    def _bad_request(exc):
        if request.path.startswith(EXEMPT_PREFIXES):
            return exc
        return render_template("error.html",
                               message=gettext("The request could not be understood; nothing was done.")), 400

    @app.errorhandler(403)
    def _forbidden(exc):
        if request.path.startswith(EXEMPT_PREFIXES):
            return exc
        return render_template("error.html", message=gettext("Your role does not allow this page or action.")), 403

    @app.errorhandler(404)
    def _not_found(exc):
        if request.path.startswith(EXEMPT_PREFIXES):
            return exc
        return render_template("error.html", message=gettext("Not found.")), 404
