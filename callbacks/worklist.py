"""The worklist: which tasks a supervisor sees, in what order, a page at a time; and the
recovery rate. One query for the dashboard page, the JSON API and the CLI.

Order: tasks still to do (open, called, not-reached) first, the highest-ranked first (the
caller's risk and the reason, ``callbacks.tasks``), then the earliest due; then the finished
ones, the most recently changed first.

Scopes: ``mine`` (the default view) is my tasks plus my teams' unassigned ones; ``team`` every
task of my teams plus mine; ``all`` everything. My teams: my own ``team`` and those I am named
for (``team_supervisors``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, union
from sqlalchemy.orm import Session

from callbacks.tasks import FINAL
from store.base import utcnow
from store.callbacks import REASONS, TASK_STATES, CallbackTask, TeamSupervisor
from store.users import User

SCOPES = ("mine", "team", "all")
STATE_FILTERS = ("todo", *TASK_STATES, "any")
"""``todo``: open, called or not-reached (the default); ``any``: every state."""
PAGE_SIZE = 25


@dataclass(frozen=True)
class Filters:
    scope: str = "all"
    user_id: int | None = None      # whose "mine" and "team"
    state: str = "todo"
    reason: str | None = None
    team: str | None = None
    agent_id: str | None = None
    overdue: bool = False
    caller: str | None = None       # one caller's number


@dataclass(frozen=True)
class Page:
    tasks: list
    total: int
    page: int
    pages: int
    overdue: int     # of ``total``, how many are past due and still to do


def my_teams(user_id):
    """The teams a user supervises: their own ``team`` and those they are named for."""
    return union(select(TeamSupervisor.team).where(TeamSupervisor.user_id == user_id),
                 select(User.team).where(User.id == user_id, User.team != ""))


def _where(query, f: Filters, now: datetime):
    if f.scope == "mine":
        query = query.where(or_(CallbackTask.owner_id == f.user_id,
                                CallbackTask.owner_id.is_(None) & CallbackTask.team.in_(my_teams(f.user_id))))
    elif f.scope == "team":
        query = query.where((CallbackTask.team.in_(my_teams(f.user_id))) | (CallbackTask.owner_id == f.user_id))
    if f.state == "todo":
        query = query.where(CallbackTask.state.not_in(FINAL))
    elif f.state != "any":
        query = query.where(CallbackTask.state == f.state)
    if f.reason:
        query = query.where(CallbackTask.reason == f.reason)
    if f.team:
        query = query.where(CallbackTask.team == f.team)
    if f.agent_id:
        query = query.where(CallbackTask.agent_id == f.agent_id)
    if f.overdue:
        query = query.where(CallbackTask.state.not_in(FINAL), CallbackTask.due_at < now)
    if f.caller:
        query = query.where(CallbackTask.caller_number == f.caller)
    return query


def check(f: Filters) -> None:
    """A filter outside its choices is a programming error here: the HTTP layers refuse it first."""
    if f.scope not in SCOPES or f.state not in STATE_FILTERS or (f.reason and f.reason not in REASONS):
        raise ValueError(f"bad worklist filters {f}")
    if f.scope != "all" and f.user_id is None:
        raise ValueError("the scopes mine and team need a user")


def worklist(session: Session, f: Filters, page: int = 1, per_page: int = PAGE_SIZE,
             now: datetime | None = None) -> Page:
    """One page of tasks under ``f`` (pages count from 1; a page past the end is the last)."""
    check(f)
    now = now or utcnow()
    todo = CallbackTask.state.not_in(FINAL)
    total, overdue = session.execute(_where(select(
        func.count(), func.coalesce(func.sum(case((todo & (CallbackTask.due_at < now), 1), else_=0)), 0)),
        f, now)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(_where(select(CallbackTask), f, now).order_by(
        case((todo, 0), else_=1), case((todo, -CallbackTask.rank), else_=None),
        case((todo, CallbackTask.due_at), else_=None),
        CallbackTask.updated_at.desc(), CallbackTask.id).limit(per_page).offset((page - 1) * per_page))
    return Page(list(rows), total, page, pages, overdue)


@dataclass(frozen=True)
class Load:
    tasks: int          # opened in the period, followed-up ones included
    followed_up: int    # of those, callers sent the polite follow-up instead (the capacity)


def recent_load(session: Session, now: datetime, days: int = 7) -> Load:
    """The tasks of calls of the last ``days`` days and how many became a polite follow-up."""
    since = (now - timedelta(days=days)).date()
    n, followed = session.execute(select(func.count(), func.coalesce(func.sum(
        case((CallbackTask.state == "followed-up", 1), else_=0)), 0)).where(CallbackTask.day >= since)).one()
    return Load(n, int(followed))


def is_overdue(task: CallbackTask, now: datetime | None = None) -> bool:
    return task.state not in FINAL and task.due_at < (now or utcnow())


def task_json(task: CallbackTask, now: datetime | None = None) -> dict:
    """A task as the JSON API and the call record show it (no caller number)."""
    return {**task.to_dict(), "overdue": is_overdue(task, now)}


def recovery(session: Session, start: datetime, end: datetime, by: str) -> dict[str, tuple[int, int]]:
    """Per team or agent (``by``): ``(opened, resolved)`` for the supervisors' tasks opened in
    ``[start, end)`` (not those sent the polite follow-up instead). The recovery rate is resolved
    / opened, the supervisors' own mark; the callers' word is ``callbacks.checks.caller_recovery``.
    Shown beside the scorecard, not paid on."""
    column = {"team": CallbackTask.team, "agent": CallbackTask.agent_id}[by]
    rows = session.execute(select(column, func.count(), func.sum(case((CallbackTask.state == "resolved", 1),
                                                                       else_=0)))
                           .where(CallbackTask.opened_at >= start, CallbackTask.opened_at < end,
                                  CallbackTask.state != "followed-up")
                           .group_by(column)).all()
    return {key: (opened, int(resolved or 0)) for key, opened, resolved in rows}
