"""Admin: users, agents, API tokens, and a read-only view of the IVR and survey files."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from accounts.errors import AccountError
from accounts.invitations import invite
from accounts.tokens import create_token, list_tokens, revoke_token
from accounts.users import create_user, update_user
from callbacks.errors import CallbackError
from callbacks.tasks import set_user_team
from callflow.agents import AGENT_ID, EMPLOYEE_NUMBER_MAX, PHONE, AgentError, create_agent, list_agents, update_agent
from dashboard.auth import guard
from dashboard.i18n import InputError, N_, refusal, shown
from dashboard.web import actor, db, or_404, render
from store.accounts import ROLES, ApiToken, audit
from store.agents import PRESENCES, Agent
from store.users import LOCALES, User

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(guard("admin"))

AGENT_NAME_MAX = Agent.__table__.c.name.type.length
AGENT_TEAM_MAX = Agent.__table__.c.team.type.length


def _saved(page: str, change):
    """Run ``change(session)`` as one transaction, say how it went, and go back to ``page``.
    A refused change is rolled back whole: nothing half-saved is ever stored."""
    try:
        with db().session() as s:
            change(s)
    except InputError as exc:
        flash(exc.say(), "error")
    except AccountError as exc:
        flash(refusal(exc), "error")
    except CallbackError as exc:   # a team for someone who is not an active supervisor, a name too long
        flash(refusal(exc), "error")
    except AgentError as exc:      # callflow's own rules, past the form's checks below
        flash(gettext("The agent was not saved: %(detail)s", detail=str(exc)), "error")
    else:
        flash(gettext("Saved."), "ok")
    return redirect(url_for(page))


def _form_bool(name: str) -> bool | None:
    """The active/deactivate select: "1" or "0", or absent (no change)."""
    value = request.form.get(name)
    if value not in (None, "0", "1"):
        raise InputError(N_("“%(value)s” is neither active nor deactivated."), value=shown(value))
    return None if value is None else value == "1"


def _users_page(invited: str | None = None, link: str | None = None):
    with db().session() as s:
        rows = list(s.scalars(select(User).order_by(User.email)))
        teams = sorted({t for t in s.scalars(select(Agent.team)) if t})
        agents = list_agents(s)
    return render("admin_users.html", rows=rows, roles=ROLES, locales=LOCALES, teams=teams, agents=agents,
                  invited=invited, invite_link=link, invite_hours=current_app.config["SETTINGS"].invitation_hours)


@bp.get("/users")
def users():
    return _users_page()


def _invite(s, user: User) -> str:
    """A one-time link for ``user`` (``accounts.invitations``), as an absolute URL to send them."""
    plain = invite(s, user, actor=actor(), hours=current_app.config["SETTINGS"].invitation_hours)
    return url_for("auth.invite", token=plain, _external=True)


@bp.post("/users")
def users_create():
    """A user with the password typed, or, with none, an invitation link shown once on the page."""
    f = request.form
    password = f.get("password", "")
    try:
        with db().session() as s:
            user = create_user(s, f.get("email", ""), password or None, f.get("role", ""), actor=actor(),
                               name=f.get("name", ""), locale=f.get("locale", "en"), agent_id=f.get("agent_id"))
            link = None if password else _invite(s, user)
            email = user.email
    except AccountError as exc:
        flash(refusal(exc), "error")
        return redirect(url_for("admin.users"))
    flash(gettext("Saved."), "ok")
    return _users_page(email, link) if link else redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/invite")
def users_invite(user_id):
    """A fresh one-time link (earlier ones stop working), shown once: never stored, never in a redirect."""
    with db().session() as s:
        user = or_404(s.get(User, user_id))
        link, email = _invite(s, user), user.email
    return _users_page(email, link)


@bp.post("/users/<id:user_id>")
def users_update(user_id):
    f = request.form

    def change(s):
        user = update_user(s, or_404(s.get(User, user_id)), actor=actor(), role=f.get("role") or None,
                           active=_form_bool("active"), locale=f.get("locale") or None,
                           password=f.get("password") or None, ring_to=f.get("ring_to"), agent_id=f.get("agent_id"))
        team = f.get("team")
        if team is not None and team.strip() != user.team:   # the supervisor's team: call-backs go round it
            s.flush()
            set_user_team(s, user.id, team, actor=actor())
    return _saved("admin.users", change)


def _queues() -> set[str]:
    return current_app.config["MENU"].queues


@bp.get("/agents")
def agents():
    with db().session() as s:
        rows = list_agents(s)
    return render("admin_agents.html", rows=rows, presences=PRESENCES, queues=sorted(_queues()))


def _agent_data(form, creating: bool) -> dict:
    """The agent form as ``callflow.agents`` data, with what a form can get wrong refused in
    the reader's language (and the team and name held to their columns' lengths)."""
    data = {"name": form.get("name", "").strip(), "team": form.get("team", "").strip(),
            "skills": form.getlist("skills"), "phone": form.get("phone", "").strip() or None,
            "employee_number": form.get("employee_number", "").strip()}
    if creating:
        data["id"] = form.get("id", "")
        if not AGENT_ID.fullmatch(data["id"]):
            raise InputError(N_("An agent id is 1 to 64 Latin letters, digits, “.”, “_” or “-” "
                                "(it is the Twilio Client identity)."))
    elif form.get("active") is not None:
        data["active"] = _form_bool("active")
    if len(data["name"]) > AGENT_NAME_MAX:
        raise InputError(N_("An agent's name can have at most %(n)s characters."), n=AGENT_NAME_MAX)
    if len(data["team"]) > AGENT_TEAM_MAX:
        raise InputError(N_("A team name can have at most %(n)s characters."), n=AGENT_TEAM_MAX)
    unknown = sorted(set(data["skills"]) - _queues())
    if unknown:
        raise InputError(N_("There are no queues %(value)s; the queues are %(choices)s."),
                         value=", ".join(shown(q) for q in unknown), choices=", ".join(sorted(_queues())))
    if len(data["employee_number"]) > EMPLOYEE_NUMBER_MAX:
        raise InputError(N_("An employee number can have at most %(n)s characters."), n=EMPLOYEE_NUMBER_MAX)
    if data["phone"] and not PHONE.fullmatch(data["phone"]):
        raise InputError(N_("A phone number is written in E.164 form, like +15551234567, or left empty."))
    return data


@bp.post("/agents")
def agents_create():
    def change(s):
        data = _agent_data(request.form, creating=True)
        if s.get(Agent, data["id"]) is not None:
            raise InputError(N_("An agent %(value)s already exists."), value=data["id"])
        agent = create_agent(s, data, _queues())
        audit(s, actor(), "agent.create", agent.id, team=agent.team, skills=agent.skills)
    return _saved("admin.agents", change)


@bp.post("/agents/<agent_id>")
def agents_update(agent_id):
    def change(s):
        agent = or_404(s.get(Agent, agent_id))
        data = _agent_data(request.form, creating=False)
        update_agent(s, agent, data, _queues())
        audit(s, actor(), "agent.update", agent.id, **{k: v for k, v in data.items() if k != "phone"})
    return _saved("admin.agents", change)


def _tokens_page(new_token: str | None):
    with db().session() as s:
        rows = list_tokens(s)
        agents = list_agents(s)
    return render("admin_tokens.html", rows=rows, roles=ROLES, new_token=new_token, agents=agents)


@bp.get("/tokens")
def tokens():
    return _tokens_page(None)


@bp.post("/tokens")
def tokens_create():
    try:
        with db().session() as s:
            _, plain = create_token(s, request.form.get("name", ""), request.form.get("role", ""), actor=actor(),
                                    agent_id=request.form.get("agent_id"))
    except AccountError as exc:
        flash(refusal(exc), "error")
        return redirect(url_for("admin.tokens"))
    # Shown once, in this response only: never stored, never put in a redirect URL.
    return _tokens_page(plain)


@bp.post("/tokens/<id:token_id>/revoke")
def tokens_revoke(token_id):
    return _saved("admin.tokens", lambda s: revoke_token(s, or_404(s.get(ApiToken, token_id)), actor=actor()))


@bp.get("/definitions")
def definitions():
    return render("admin_definitions.html", menu=current_app.config["MENU"], survey=current_app.config["SURVEY"])
