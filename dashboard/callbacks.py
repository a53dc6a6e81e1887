"""The call-back worklist: a supervisor's tasks (mine / my teams' / all), overdue first, a
page at a time, with the state change and the reassignment forms, and the caller's own words
where they left some.

The query is ``callbacks.worklist.worklist`` and the changes ``callbacks.tasks``', as for the
JSON API and ``flask callbacks``; this page collects them and words a refusal in the
reader's language. Caller numbers are masked (``dashboard.masking``).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_babel import gettext
from sqlalchemy import select

from callbacks.calling import active, call_back
from callbacks.errors import CallbackError
from callbacks.tasks import FINAL, NEXT, SUPERVISING_ROLES, change_state, reassign
from callbacks.worklist import SCOPES, STATE_FILTERS, Filters, is_overdue, recent_load, worklist
from dashboard import queries, words as caller_words
from dashboard.auth import guard
from dashboard.paging import Page, page_number
from dashboard.i18n import N_, label, refusal
from dashboard.masking import mask
from dashboard.web import actor, caller_arg, choice_arg, db, render, safe_path
from store.agents import Agent
from store.base import utcnow
from store.callbacks import REASONS, TaskLeg
from store.users import User

bp = Blueprint("callbacks", __name__)
bp.before_request(guard("callbacks"))
PAGE_SIZE = 25
ATTEMPTS_SHOWN = 3   # a task's latest call attempts in its row


@bp.get("/callbacks")
def index():
    scope = choice_arg("scope", SCOPES, N_("Whose"), default="mine")
    state = choice_arg("state", STATE_FILTERS, N_("State"), default="todo")
    reason = choice_arg("reason", REASONS, N_("Reason"))
    overdue = choice_arg("overdue", ("1",), N_("overdue")) == "1"
    asked = page_number()
    with db().session() as s:
        teams = sorted({team for team in s.scalars(select(Agent.team)) if team})
        team = choice_arg("team", teams, N_("Team"))
        agent_id = choice_arg("agent", queries.agent_ids(s), N_("Agent"))
        caller = caller_arg(s)
        now = utcnow()
        result = worklist(s, Filters(scope=scope, user_id=current_user.id, state=state, reason=reason, team=team,
                                     agent_id=agent_id, overdue=overdue, caller=caller[1] if caller else None),
                          asked, PAGE_SIZE, now=now)
        owners = {u.id: u for u in s.scalars(select(User).where(User.active.is_(True),
                                                                User.role.in_(SUPERVISING_ROLES)).order_by(User.email))}
        emails = dict(s.execute(select(User.id, User.email).where(
            User.id.in_({a.user_id for task in result.tasks for a in task.attempts}))).all())
        said = caller_words.shown(s, [task.leg_id for task in result.tasks])
        more: dict[int, list] = {}
        for leg in s.scalars(select(TaskLeg).where(TaskLeg.task_id.in_([t.id for t in result.tasks]))
                             .order_by(TaskLeg.added_at, TaskLeg.leg_id)):
            more.setdefault(leg.task_id, []).append(leg)
        week = recent_load(s, now)
        rows = [{"task": task, "overdue": is_overdue(task, now), "caller": mask(task.caller_number),
                 "owner": owners.get(task.owner_id), "next": NEXT[task.state], "words": said.get(task.leg_id, []),
                 "more": more.get(task.id, []),
                 "attempts": [{"a": a, "who": emails.get(a.user_id, ""), "active": active(a)}
                              for a in task.attempts[-ATTEMPTS_SHOWN:]]} for task in result.tasks]
    query = {"scope": scope, "state": state, "reason": reason, "team": team, "agent": agent_id,
             "overdue": "1" if overdue else None, "caller": caller[0] if caller else None}
    page = Page(result.page, PAGE_SIZE, result.total, "page")
    return render("callbacks.html", rows=rows, result=result, page=page, scopes=SCOPES, states=STATE_FILTERS, reasons=REASONS,
                  teams=teams, query=query, owners=list(owners.values()),
                  caller=mask(caller[1]) if caller else None, final=FINAL, week=week,
                  capacity=dict(current_app.config["SETTINGS"].callback_capacity).get("", 0),
                  can_ring=not ring_problem(), not_ringing=ring_problem())


def ring_problem() -> str | None:
    """Why "call back" cannot ring anyone here, said before anything rings; None when it can."""
    settings = current_app.config["SETTINGS"]
    if not (settings.twilio_account_sid and settings.twilio_from_number and settings.public_base_url):
        return gettext("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_FROM_NUMBER and PUBLIC_BASE_URL), "
                       "so nothing can ring.")
    return None


def _back():
    return redirect(safe_path(request.form.get("back")) or url_for("callbacks.index"))


def _refused(task_id, exc: CallbackError):
    flash(gettext("Task %(id)s was not changed: %(detail)s", id=task_id, detail=refusal(exc)), "error")


@bp.post("/callbacks/<id:task_id>/state")
def set_state(task_id):
    note = request.form.get("note")
    try:
        with db().session() as s:
            change_state(s, task_id, request.form.get("state") or "", actor=actor(),
                         note=note.strip() if note else None)
    except CallbackError as exc:
        _refused(task_id, exc)
    else:
        flash(gettext("Task %(id)s: %(state)s.", id=task_id, state=label("task_state", request.form["state"])), "ok")
    return _back()


@bp.post("/callbacks/<id:task_id>/assign")
def assign(task_id):
    raw = request.form.get("owner") or ""
    if not raw:
        flash(gettext("Task %(id)s was not assigned: choose who gets it.", id=task_id), "error")
        return _back()
    owner = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1
    try:
        with db().session() as s:
            user = reassign(s, task_id, owner, actor=actor())
            email = s.get(User, user.owner_id).email
    except CallbackError as exc:
        _refused(task_id, exc)
    else:
        flash(gettext("Task %(id)s assigned to %(email)s.", id=task_id, email=email), "ok")
    return _back()


@bp.post("/callbacks/<id:task_id>/call")
def call(task_id):
    """"Call back": Twilio rings the logged-in supervisor, then connects the caller."""
    if (problem := ring_problem()) is not None:
        flash(gettext("Task %(id)s was not called back: %(detail)s", id=task_id, detail=problem), "error")
        return _back()
    try:
        with db().session() as s:
            attempt, started = call_back(s, task_id, user_id=current_user.id, actor=actor(),
                                         ring_job=current_app.extensions["callback_ring_job"])
            ring_to = attempt.ring_to
    except CallbackError as exc:
        flash(gettext("Task %(id)s was not called back: %(detail)s", id=task_id, detail=refusal(exc)), "error")
    else:
        if started:
            flash(gettext("Task %(id)s: Twilio is ringing %(to)s; answer it to be connected to the caller.",
                          id=task_id, to=ring_to), "ok")
        else:
            flash(gettext("Task %(id)s already has a call under way; nothing new was rung.", id=task_id), "info")
    return _back()
