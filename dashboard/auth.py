"""Who is logged in and what their role lets them do.

Roles map to areas: supervisors see scorecards, calls and flags; HR sees scorecards,
periods, exports and the audit log; admins manage users, agents, tokens and may do
everything (they can grant themselves any role anyway, so pretending otherwise would
be theatre) except be an agent; an agent sees their own card ("me") and nothing else. Each dashboard blueprint declares its area once, in a ``before_request``,
so no view can forget the check.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, logout_user
from flask_babel import gettext

from store.users import User

AREAS = {
    "scorecards": ("supervisor", "hr"),
    "calls": ("supervisor",),
    "flags": ("supervisor",),
    "callbacks": ("supervisor",),
    "profile": ("supervisor", "hr"),
    "periods": ("hr",),
    "admin": (),
    "me": ("agent",),
}
PERSONAL = ("me",)
"""Areas about the logged-in user's own agent: even an admin is not an agent."""

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


@dataclass
class SessionUser(UserMixin):
    """The logged-in user as the request sees it: a detached copy, no database session held."""

    id: int
    email: str
    name: str
    role: str
    locale: str
    nonce: str
    agent_id: str | None = None

    def get_id(self) -> str:
        # The nonce makes a role change, deactivation or password change end open sessions.
        return f"{self.id}:{self.nonce}"

    @classmethod
    def of(cls, user: User) -> "SessionUser":
        return cls(user.id, user.email, user.name, user.role, user.locale, user.session_nonce,
                   user.agent_id if user.role == "agent" else None)


@login_manager.user_loader
def _load(key: str) -> SessionUser | None:
    user_id, _, nonce = key.partition(":")
    if not user_id.isdigit():
        return None
    with current_app.extensions["db"].session() as s:
        user = s.get(User, int(user_id))
        if user is None or not user.active or user.session_nonce != nonce:
            return None
        return SessionUser.of(user)


@login_manager.unauthorized_handler
def _unauthorized():
    flash(gettext("Please log in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def can(area: str, user=None) -> bool:
    user = user or current_user
    if not (user and user.is_authenticated):
        return False
    if area in PERSONAL:
        return user.role in AREAS[area] and bool(getattr(user, "agent_id", None))
    return user.role == "admin" or user.role in AREAS[area]


def guard(area: str):
    """A blueprint ``before_request``: log in first, then the role must cover ``area``."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}")

    def check():
        if current_user.is_authenticated and session_expired():
            logout_user()
            session.clear()
            flash(gettext("Your session expired; please log in again."), "info")
            return redirect(url_for("auth.login"))
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not can(area):
            abort(403)
    return check


def session_expired() -> bool:
    """Sessions end a fixed time after login (PERMANENT_SESSION_LIFETIME), however active:
    a stolen cookie is worth one shift at most."""
    started = session.get("login_at")
    limit = current_app.permanent_session_lifetime.total_seconds()
    return started is None or time.time() - float(started) > limit
