"""Admin: users, agents, API tokens, and a read-only view of the IVR and survey files."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from sqlalchemy import select

from callflow.agents import AgentError, create_agent, list_agents, update_agent
from dashboard.accounts import AccountError, audit, create_token, create_user, revoke_token, update_user
from dashboard.auth import guard
from dashboard.i18n import t
from dashboard.web import actor, db, or_404, render
from store.accounts import ROLES, ApiToken
from store.agents import PRESENCES, Agent
from store.users import LOCALES, User

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(guard("admin"))


def _form_bool(name: str) -> bool | None:
    value = request.form.get(name)
    return None if value is None else value == "1"


@bp.get("/users")
def users():
    with db().session() as s:
        rows = list(s.scalars(select(User).order_by(User.email)))
    return render("admin_users.html", rows=rows, roles=ROLES, locales=LOCALES)


@bp.post("/users")
def users_create():
    f = request.form
    try:
        with db().session() as s:
            create_user(s, f.get("email", ""), f.get("password", ""), f.get("role", ""), actor=actor(),
                        name=f.get("name", ""), locale=f.get("locale", "en"))
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(t("saved"), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
def users_update(user_id):
    f = request.form
    try:
        with db().session() as s:
            user = or_404(s.get(User, user_id))
            update_user(s, user, actor=actor(), role=f.get("role") or None, active=_form_bool("active"),
                        locale=f.get("locale") or None, password=f.get("password") or None)
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(t("saved"), "ok")
    return redirect(url_for("admin.users"))


@bp.get("/agents")
def agents():
    with db().session() as s:
        rows = list_agents(s)
    return render("admin_agents.html", rows=rows, presences=PRESENCES,
                  queues=sorted(current_app.config["MENU"].queues))


def _agent_data(form, creating: bool) -> dict:
    data = {"name": form.get("name", ""), "team": form.get("team", ""), "skills": form.getlist("skills"),
            "phone": form.get("phone") or None}
    if creating:
        data["id"] = form.get("id", "")
    elif form.get("active") is not None:
        data["active"] = form.get("active") == "1"
    return data


@bp.post("/agents")
def agents_create():
    try:
        with db().session() as s:
            agent = create_agent(s, _agent_data(request.form, True), current_app.config["MENU"].queues)
            audit(s, actor(), "agent.create", agent.id, team=agent.team, skills=agent.skills)
    except AgentError as exc:
        flash(str(exc), "error")
    else:
        flash(t("saved"), "ok")
    return redirect(url_for("admin.agents"))


@bp.post("/agents/<agent_id>")
def agents_update(agent_id):
    try:
        with db().session() as s:
            agent = or_404(s.get(Agent, agent_id))
            data = _agent_data(request.form, False)
            update_agent(s, agent, data, current_app.config["MENU"].queues)
            audit(s, actor(), "agent.update", agent.id, **{k: v for k, v in data.items() if k != "phone"})
    except AgentError as exc:
        flash(str(exc), "error")
    else:
        flash(t("saved"), "ok")
    return redirect(url_for("admin.agents"))


@bp.get("/tokens")
def tokens():
    with db().session() as s:
        rows = list(s.scalars(select(ApiToken).order_by(ApiToken.id)))
    return render("admin_tokens.html", rows=rows, roles=ROLES, new_token=None)


@bp.post("/tokens")
def tokens_create():
    try:
        with db().session() as s:
            _, plain = create_token(s, request.form.get("name", ""), request.form.get("role", ""), actor=actor())
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.tokens"))
    with db().session() as s:
        rows = list(s.scalars(select(ApiToken).order_by(ApiToken.id)))
    # Shown once, in this response only: never stored, never put in a redirect URL.
    return render("admin_tokens.html", rows=rows, roles=ROLES, new_token=plain)


@bp.post("/tokens/<int:token_id>/revoke")
def tokens_revoke(token_id):
    with db().session() as s:
        revoke_token(s, or_404(s.get(ApiToken, token_id)), actor=actor())
    flash(t("saved"), "ok")
    return redirect(url_for("admin.tokens"))


@bp.get("/definitions")
def definitions():
    return render("admin_definitions.html", menu=current_app.config["MENU"], survey=current_app.config["SURVEY"])
