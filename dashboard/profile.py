"""My profile: my language (the dashboard's, and the XLSX exports'), and, for those who call
callers back, where "call back" rings me (a phone number or a Twilio Client identity).

The change goes through ``accounts.users.update_user``, as the admins' /admin/users does:
validated (a known language; E.164 or ``client:<identity>``) and audit-logged.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from accounts.errors import AccountError
from accounts.users import update_user
from dashboard.auth import can, guard
from dashboard.i18n import LANGUAGES, refusal
from dashboard.web import actor, db, or_404, render
from store.users import User

bp = Blueprint("profile", __name__)
bp.before_request(guard("profile"))


@bp.get("/profile")
def show():
    with db().session() as s:
        user = or_404(s.get(User, current_user.id))
        return render("profile.html", ring_to=user.ring_to, locale=user.locale, languages=LANGUAGES)


@bp.post("/profile")
def save():
    try:
        with db().session() as s:
            locale = request.form.get("locale")
            update_user(s, or_404(s.get(User, current_user.id)), actor=actor(), locale=locale,
                        ring_to=request.form.get("ring_to", "") if can("callbacks") else None)
    except AccountError as exc:
        flash(refusal(exc), "error")
    else:
        if locale:
            session["lang"] = locale    # this session speaks it at once, as the header's switch would
        flash(gettext("Saved."), "ok")
    return redirect(url_for("profile.show"))
