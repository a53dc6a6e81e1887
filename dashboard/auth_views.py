"""Log in, log out, switch language, the landing redirect, and the invitation link that sets a password."""
from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from accounts import invitations
from accounts.errors import AccountError
from accounts.users import find_user, record_login, record_logout
from dashboard.auth import SessionUser, can
from dashboard.i18n import LANGUAGES, refusal, shown
from dashboard.web import db, render, safe_path
from store.accounts import audit
from store.users import MIN_PASSWORD

bp = Blueprint("auth", __name__, static_folder="static", static_url_path="/dashboard-static",
               template_folder="templates")


def _home() -> str:
    for area, endpoint in (("scorecards", "supervise.scorecards"), ("admin", "admin.users"), ("me", "me.card")):
        if can(area):
            return url_for(endpoint)
    return url_for("auth.login")


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(_home())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        with db().session() as s:
            user = find_user(s, email) if email else None
            ok = user is not None and user.active and user.check_password(password)
            if ok:
                record_login(s, user)
                who = SessionUser.of(user)
            else:   # who tried, from where, and why it failed: the trail of a guessing attack
                why = "unknown" if user is None else ("disabled" if not user.active else "password")
                audit(s, "anonymous", "user.login_failed", shown(email, 150), address=request.remote_addr or "",
                      reason=why)
        if ok:
            lang = session.get("lang")
            session.clear()  # a fresh session at login: nothing an attacker planted survives
            if lang:
                session["lang"] = lang
            session.permanent = True
            session["login_at"] = time.time()
            login_user(who)
            return redirect(safe_path(request.args.get("next")) or _home())
        flash(gettext("Wrong e-mail or password, or the account is disabled."), "error")
        return render("login.html", email=email), 401
    return render("login.html", email="")


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        with db().session() as s:
            record_logout(s, current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    else:
        flash(gettext("There is no language “%(value)s”; choose one of %(choices)s.", value=shown(lang or ""),
                      choices=", ".join(LANGUAGES)), "error")
    return redirect(safe_path(request.form.get("back")) or url_for("auth.index"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token):
    """The one-time link an admin sent: set a password, then log in with it. An unknown, used
    or expired link is a 404 (counted by the login's address throttle, ``dashboard.hardening``)."""
    with db().session() as s:
        found = invitations.pending(s, token)
        email = found[1].email if found else None
    if found is None:
        if request.method == "POST":
            with db().session() as s:
                invitations.accept(s, token, "", address=request.remote_addr or "")   # logs the refusal
        return render("error.html", message=gettext(
            "This invitation link is unknown, used already or expired; ask an admin for a new one.")), 404
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("again", ""):
            flash(gettext("The two passwords differ."), "error")
            return render("invite.html", email=email, min_password=MIN_PASSWORD), 400
        try:
            with db().session() as s:
                invitations.accept(s, token, password, address=request.remote_addr or "")
        except AccountError as exc:
            flash(refusal(exc), "error")
            return render("invite.html", email=email, min_password=MIN_PASSWORD), 400
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
        flash(gettext("Your password is set; log in with it."), "ok")
        return redirect(url_for("auth.login"))
    return render("invite.html", email=email, min_password=MIN_PASSWORD)
