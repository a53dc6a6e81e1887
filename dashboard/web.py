"""Small helpers every dashboard view uses: the database, the date range, the actor."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, current_app, flash, render_template
from flask_login import current_user
from sqlalchemy import select

from dashboard.filters import FilterError, Range, from_args
from store.payroll import PayPeriod


def db():
    return current_app.extensions["db"]


def centre_tz():
    return current_app.config["MENU"].hours.tz


def actor() -> str:
    return current_user.email


def periods(session) -> dict[str, tuple[datetime, datetime]]:
    return {p.key: (p.starts_at, p.ends_at)
            for p in session.scalars(select(PayPeriod).order_by(PayPeriod.starts_at.desc()))}


def page_range(session, args) -> tuple[Range, dict]:
    """The range asked for, or the default one with the error flashed; plus the period list."""
    known = periods(session)
    today = datetime.now(centre_tz()).date()
    try:
        return from_args(args, centre_tz(), today, known), known
    except FilterError as exc:
        flash(str(exc), "error")
        return from_args({}, centre_tz(), today, known), known


def render(template: str, **context):
    return render_template(template, **context)


def or_404(value):
    if value is None:
        abort(404)
    return value


def safe_path(target: str | None) -> str | None:
    """Only same-site paths: an open redirect would lend our address to a phishing site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc or "\\" in target else target
