"""Small helpers every dashboard view uses: the database, the date range, the actor."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, current_app, flash, render_template, request
from flask_login import current_user
from flask_babel import gettext
from dashboard.call_list import caller_number
from dashboard.filters import FilterError, Range, from_args
from dashboard.i18n import shown
from scoring.payroll.periods import KnownPeriod, known_periods


def db():
    return current_app.extensions["db"]


def centre_tz():
    return current_app.config["MENU"].hours.tz


def actor() -> str:
    return current_user.email


def periods(session) -> dict[str, KnownPeriod]:
    """The periods a Period dropdown offers (``known_periods``), newest first, by key."""
    return {p.key: p for p in known_periods(session)}


def page_range(session, args) -> tuple[Range, dict[str, KnownPeriod]]:
    """The range asked for, or the default one with the error flashed; plus the period list."""
    known = periods(session)
    bounds = {key: (p.starts_at, p.ends_at) for key, p in known.items()}
    today = datetime.now(centre_tz()).date()
    try:
        return from_args(args, centre_tz(), today, bounds), known
    except FilterError as exc:
        flash(exc.say(), "error")
        return from_args({}, centre_tz(), today, bounds), known


def choice_arg(name: str, allowed, label: str, default: str | None = None) -> str | None:
    """A query filter that must be one of ``allowed``; empty means ``default``. Anything else
    is not applied, and the page says so (``label`` names the filter)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if raw in allowed:
        return raw
    flash(gettext("%(what)s: “%(value)s” is not a known value, so this filter was not applied.",
                  what=gettext(label), value=shown(raw)), "error")
    return default


def caller_arg(session) -> tuple[str, str] | None:
    """``?caller=``: a caller key (the CallSid of one of their calls, as the at-risk page links
    it): ``(key, number)``; an unknown key is not applied, and the page says so."""
    raw = (request.args.get("caller") or "").strip()
    if not raw:
        return None
    number = caller_number(session, raw)
    if number is not None:
        return raw, number
    flash(gettext("%(what)s: “%(value)s” is not a known value, so this filter was not applied.",
                  what=gettext("Caller"), value=shown(raw)), "error")
    return None


def render(template: str, **context):
    return render_template(template, **context)


def or_404(value):
    if value is None:
        abort(404)
    return value


def safe_path(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would lend our address to a phishing site, and
    a control character (a line break above all) cannot go into a Location header."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc or "\\" in target else target
