"""Opening call-back tasks and moving them through their states; every change audit-logged.

**One task per caller and window**: a caller's first unhappy leg opens a task; their further
unhappy legs within ``window_days`` attach to it as evidence (``callback_task_legs``) while it
is not resolved or declined. A caller whose number is withheld cannot be told apart from
another, so each such leg has its own task. Both are insert-or-nothing on the leg, so duplicate
webhooks, repeated triggers and two sweeps at once still make one task or one attachment.

**Ranked**: a task's ``rank`` is the caller's risk points (given by the composition root from
``scoring.customers``; this package may not import it) plus the reason's weight.

**Capacity**: at most ``capacity`` tasks per team and call day; past it the lower-ranked of the
day's untouched tasks and the newcomer becomes ``followed-up``: the caller gets a polite SMS
asking whether their question is resolved now (``callbacks.checks``) instead of a call.

**Owner**: the team's supervisors (users whose ``team`` is the agent's, and the one named in
``team_supervisors``) in turn: the one given this team's task longest ago first. None: the task
is unassigned and shows on the team's supervisors' default list. Due by the close of the next
business day (``callbacks.due``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from callbacks.checks import queue_check
from callbacks.due import due_at
from callbacks.errors import CallbackError
from callbacks.triggers import triggered_legs
from ivr.hours import Schedule
from store.accounts import audit
from store.agents import Agent
from store.base import dialect_insert, utcnow
from store.callbacks import TASK_STATES, CallbackTask, TaskLeg, TeamSupervisor
from store.calls import Call, Leg
from store.users import User

NEXT = {
    "open": ("called", "resolved", "declined"),
    "called": ("resolved", "not-reached", "declined"),
    "not-reached": ("called", "declined"),
    "resolved": (),
    "declined": (),
    "followed-up": (),
}
"""Allowed moves. ``called`` = a supervisor rang the caller; a caller not reached may be
tried again; ``resolved`` and ``declined`` are final. Open → resolved/declined covers a
caller who rang back themselves. ``followed-up`` is set only by the capacity rule."""
FINAL = ("resolved", "declined", "followed-up")
NOTE_MAX = CallbackTask.__table__.c.note.type.length
TEAM_MAX = TeamSupervisor.__table__.c.team.type.length
SUPERVISING_ROLES = ("supervisor", "admin")
REASON_WEIGHT = {"adequacy-no": 3.0, "abandoned-after-transfer": 2.0, "low-rating": 1.0}
"""Added to the caller's risk points: a question left unanswered outranks a low mark."""
ATTACHABLE = ("open", "called", "not-reached", "followed-up")
"""A caller's task that takes their further legs as evidence; once resolved or declined, a new
unhappy call is a new task."""


def callable_number(number: str | None) -> bool:
    """A number that names one caller (not withheld, not a SIP name): the grouping key."""
    raw = (number or "").strip()
    digits = raw[1:] if raw.startswith("+") else raw
    return digits.isdigit() and 7 <= len(digits) <= 15


def team_supervisors(session: Session, team: str) -> list[int]:
    """The active supervisors (and admins) of ``team``: their ``team``, or named for it."""
    if not team:
        return []
    named = select(TeamSupervisor.user_id).where(TeamSupervisor.team == team)
    return list(session.scalars(select(User.id).where(
        User.active.is_(True), User.role.in_(SUPERVISING_ROLES),
        or_(User.team == team, User.id.in_(named))).order_by(User.id)))


def next_owner(session: Session, team: str) -> int | None:
    """Round-robin: the team's supervisor whose latest task of this team is the oldest (one
    never given one first)."""
    people = team_supervisors(session, team)
    if not people:
        return None
    latest = dict(session.execute(select(CallbackTask.owner_id, func.max(CallbackTask.id)).where(
        CallbackTask.team == team, CallbackTask.owner_id.in_(people)).group_by(CallbackTask.owner_id)).all())
    return min(people, key=lambda uid: (latest.get(uid, 0), uid))


def _attach_to(session: Session, number: str, started: datetime, window_days: int) -> CallbackTask | None:
    """The caller's task still taking evidence whose call is within ``window_days`` of ``started``."""
    if not callable_number(number):
        return None
    window = timedelta(days=window_days)
    return session.scalar(select(CallbackTask).join(Call, Call.sid == CallbackTask.call_sid).where(
        CallbackTask.caller_number == number, CallbackTask.state.in_(ATTACHABLE),
        Call.started_at >= started - window, Call.started_at <= started + window)
        .order_by(CallbackTask.id.desc()).limit(1))


def _over_capacity(session: Session, task: CallbackTask, capacity: int) -> CallbackTask | None:
    """The task that gives way when ``task`` makes its team's day exceed ``capacity``: the
    day's lowest-ranked untouched task (``task`` itself when it ranks lowest); None within it."""
    if capacity <= 0:
        return None
    day = (CallbackTask.team == task.team, CallbackTask.day == task.day, CallbackTask.state != "followed-up")
    if session.scalar(select(func.count()).select_from(CallbackTask).where(*day)) <= capacity:
        return None
    untouched = select(CallbackTask).where(*day, CallbackTask.state == "open", ~CallbackTask.attempts.any())
    return session.scalar(untouched.order_by(CallbackTask.rank, CallbackTask.id.desc()).limit(1))


def follow_up_instead(session: Session, task: CallbackTask, now: datetime) -> None:
    """The team's day is full: the caller gets the polite follow-up, not a call."""
    old, task.state, task.updated_at, task.closed_at = task.state, "followed-up", now, now
    queue_check(session, task, "capacity", now)
    audit(session, "system", "callback.capacity", f"task:{task.id}", at=now, old=old, rank=task.rank)


def open_tasks(session: Session, schedule: Schedule, *, now: datetime | None = None, lookback_days: int = 14,
               due_hours: int | None = None, risk: Callable[[str], float] | None = None,
               capacity: Callable[[str], int] | None = None,
               window_days: int = 7) -> list[CallbackTask]:
    """Open a task (or attach evidence) for every triggered leg of the last ``lookback_days``;
    returns the tasks this call opened, some perhaps ``followed-up`` at once (a concurrent
    sweep's are not repeated). The highest-ranked go first, so the capacity keeps those."""
    now = now or utcnow()
    risk = risk or (lambda number: 0.0)
    rows = []
    for leg_id, reason in triggered_legs(session, now - timedelta(days=lookback_days)):
        leg = session.get(Leg, leg_id)
        call = session.get(Call, leg.call_sid)
        rank = round(risk(call.from_number) + REASON_WEIGHT[reason], 2)
        rows.append((-rank, call.started_at, leg_id, leg, call, reason, rank))
    opened = []
    for _, started, _, leg, call, reason, rank in sorted(rows, key=lambda r: r[:3]):
        host = _attach_to(session, call.from_number, started or now, window_days)
        if host is not None:
            session.execute(dialect_insert(session, TaskLeg.__table__).values(
                leg_id=leg.id, task_id=host.id, call_sid=leg.call_sid, reason=reason, added_at=now,
            ).on_conflict_do_nothing())
            continue
        agent = session.get(Agent, leg.agent_id)
        owner = next_owner(session, agent.team)
        task_id = session.execute(dialect_insert(session, CallbackTask.__table__).values(
            leg_id=leg.id, call_sid=leg.call_sid, agent_id=leg.agent_id, team=agent.team,
            caller_number=call.from_number, reason=reason, owner_id=owner, state="open", note="",
            due_at=due_at(schedule, now, due_hours), opened_at=now, updated_at=now, rank=rank,
            day=(started or now).astimezone(schedule.tz).date(),
        ).on_conflict_do_nothing().returning(CallbackTask.__table__.c.id)).scalar()
        if task_id is None:   # a concurrent sweep opened it first
            continue
        task = session.get(CallbackTask, task_id)
        audit(session, "system", "callback.open", f"task:{task_id}", at=now, leg_id=leg.id, call_sid=leg.call_sid,
              reason=reason, owner_id=owner, due_at=task.due_at.isoformat(), rank=rank)
        session.flush()
        gives_way = _over_capacity(session, task, capacity(agent.team) if capacity else 0)
        if gives_way is not None:
            follow_up_instead(session, gives_way, now)
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
    if state == "resolved":   # the caller's own word on it: one question by SMS
        queue_check(session, task, "resolved", at)
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


def set_user_team(session: Session, user_id: int, team: str, *, actor: str) -> User:
    """Make a supervisor one of ``team``'s (empty: none): they take their turn at its new tasks
    and see its unassigned ones on their default list."""
    team = team.strip()
    if len(team) > TEAM_MAX:
        raise CallbackError("bad_team", n=TEAM_MAX)
    user = _supervisor(session, user_id)
    if user.team != team:
        audit(session, actor, "callback.user_team", user.email, old=user.team, new=team)
        user.team = team
    return user
