"""Opening call-back tasks and moving them through their states; every change audit-logged.

A task opens once per leg (``UNIQUE(leg_id)``, insert-or-nothing), so duplicate webhooks,
repeated triggers and two sweeps at once still make one task. It lands on the worklist of
the agent's team's supervisor (``team_supervisors``; none set: unassigned, on everyone's
"all" list) and is due by the close of the next business day (``callbacks.due``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks.due import due_at
from callbacks.errors import CallbackError
from callbacks.triggers import triggered_legs
from ivr.hours import Schedule
from store.accounts import audit
from store.agents import Agent
from store.base import dialect_insert, utcnow
from store.callbacks import TASK_STATES, CallbackTask, TeamSupervisor
from store.calls import Call, Leg
from store.users import User

NEXT = {
    "open": ("called", "resolved", "declined"),
    "called": ("resolved", "not-reached", "declined"),
    "not-reached": ("called", "declined"),
    "resolved": (),
    "declined": (),
}
"""Allowed moves. ``called`` = a supervisor rang the caller; a caller not reached may be
tried again; ``resolved`` and ``declined`` are final. Open → resolved/declined covers a
caller who rang back themselves."""
FINAL = ("resolved", "declined")
NOTE_MAX = CallbackTask.__table__.c.note.type.length
TEAM_MAX = TeamSupervisor.__table__.c.team.type.length
SUPERVISING_ROLES = ("supervisor", "admin")


def open_tasks(session: Session, schedule: Schedule, *, now: datetime | None = None, lookback_days: int = 14,
               due_hours: int | None = None) -> list[CallbackTask]:
    """Open a task for every triggered leg of the last ``lookback_days`` that has none; returns
    the tasks this call opened (a concurrent sweep's are not repeated)."""
    now = now or utcnow()
    opened = []
    for leg_id, reason in triggered_legs(session, now - timedelta(days=lookback_days)):
        leg = session.get(Leg, leg_id)
        agent, call = session.get(Agent, leg.agent_id), session.get(Call, leg.call_sid)
        owner = session.scalar(select(TeamSupervisor.user_id).where(TeamSupervisor.team == agent.team))
        task_id = session.execute(dialect_insert(session, CallbackTask.__table__).values(
            leg_id=leg.id, call_sid=leg.call_sid, agent_id=leg.agent_id, team=agent.team,
            caller_number=call.from_number, reason=reason, owner_id=owner, state="open", note="",
            due_at=due_at(schedule, now, due_hours), opened_at=now, updated_at=now,
        ).on_conflict_do_nothing().returning(CallbackTask.__table__.c.id)).scalar()
        if task_id is None:   # a concurrent sweep opened it first
            continue
        task = session.get(CallbackTask, task_id)
        audit(session, "system", "callback.open", f"task:{task_id}", at=now, leg_id=leg.id, call_sid=leg.call_sid,
              reason=reason, owner_id=owner, due_at=task.due_at.isoformat())
        opened.append(task)
    return opened


def get_task(session: Session, task_id) -> CallbackTask:
    task = session.get(CallbackTask, task_id) if isinstance(task_id, int) and 0 < task_id < 2**31 else None
    if task is None:
        raise CallbackError("no_task", value=task_id)
    return task


def change_state(session: Session, task_id: int, state: str, *, actor: str, note: str | None = None,
                 at: datetime | None = None) -> CallbackTask:
    """Move a task to ``state`` (see ``NEXT``), with an optional outcome note."""
    if state not in TASK_STATES:
        raise CallbackError("bad_state", choices=", ".join(TASK_STATES))
    if note is not None and len(note) > NOTE_MAX:
        raise CallbackError("note_long", n=NOTE_MAX)
    task = get_task(session, task_id)
    if state not in NEXT[task.state]:
        raise CallbackError("bad_transition", old=task.state, new=state, choices=", ".join(NEXT[task.state]) or "—")
    at = at or utcnow()
    old, task.state, task.updated_at = task.state, state, at
    if note is not None:
        task.note = note
    task.closed_at = at if state in FINAL else None
    audit(session, actor, "callback.state", f"task:{task.id}", at=at, old=old, new=state, note=task.note)
    return task


def _supervisor(session: Session, user_id) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None or not user.active or user.role not in SUPERVISING_ROLES:
        raise CallbackError("not_supervisor", value=user_id if user is None else user.email)
    return user


def reassign(session: Session, task_id: int, user_id: int, *, actor: str) -> CallbackTask:
    """Give a task to another supervisor (or admin)."""
    task = get_task(session, task_id)
    user = _supervisor(session, user_id)
    old, task.owner_id, task.updated_at = task.owner_id, user.id, utcnow()
    audit(session, actor, "callback.reassign", f"task:{task.id}", old=old, new=user.id)
    return task


def set_team_supervisor(session: Session, team: str, user_id: int, *, actor: str) -> TeamSupervisor:
    """Name the supervisor whose worklist receives ``team``'s new tasks (open ones stay put)."""
    team = team.strip()
    if not 0 < len(team) <= TEAM_MAX:
        raise CallbackError("bad_team", n=TEAM_MAX)
    user = _supervisor(session, user_id)
    row = session.get(TeamSupervisor, team)
    old = row.user_id if row else None
    if row is None:
        row = TeamSupervisor(team=team, user_id=user.id, updated_at=utcnow())
        session.add(row)
    else:
        row.user_id, row.updated_at = user.id, utcnow()
    audit(session, actor, "callback.team_supervisor", f"team:{team}", old=old, new=user.id)
    return row
