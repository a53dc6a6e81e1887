"""Call-back tasks: a supervisor owes an unhappy caller a call (issue 14).

One task per leg (``UNIQUE(leg_id)``): however often a trigger repeats or a sweep runs, the
leg has one task. ``team_supervisors`` says whose worklist a team's tasks land on.
``callback_attempts``: each "call back" click, the Twilio call that rang the supervisor and
then the caller, and how it ended.
"""
from __future__ import annotations

from datetime import datetime

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, UTCDateTime, utcnow

TASK_STATES = ("open", "called", "resolved", "not-reached", "declined", "followed-up")
"""``followed-up``: beyond the team's daily capacity, the caller was sent a polite follow-up
instead of a supervisor's call (``callbacks.tasks``); final, like ``resolved`` and ``declined``."""
REASONS = ("adequacy-no", "low-rating", "abandoned-after-transfer")


class CallbackTask(Base):
    __tablename__ = "callback_tasks"
    # The worklist reads a state's tasks by due time, an owner's by state.
    __table_args__ = (Index("ix_callback_tasks_state_due_at", "state", "due_at"),
                      Index("ix_callback_tasks_owner_id_state", "owner_id", "state"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leg_id: Mapped[int] = mapped_column(ForeignKey("legs.id"), unique=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    team: Mapped[str] = mapped_column(String(64), default="")
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str] = mapped_column(String(500), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the sweep first saw it overdue (and announced it to the task event webhook, if set)."""
    rank: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    """The caller's risk points when opened plus the reason's weight: the worklist's order."""
    day: Mapped[date | None] = mapped_column(Date)
    """The centre's local day of the call: what the team's daily capacity counts."""
    attempts: Mapped[list["CallAttempt"]] = relationship(order_by="CallAttempt.id", lazy="selectin",
                                                         viewonly=True)

    def to_dict(self) -> dict:
        return {"id": self.id, "leg_id": self.leg_id, "call_sid": self.call_sid, "agent_id": self.agent_id,
                "team": self.team, "reason": self.reason, "owner_id": self.owner_id, "state": self.state,
                "note": self.note, "due_at": self.due_at.isoformat(), "opened_at": self.opened_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None,
                "rank": self.rank, "attempts": [a.to_dict() for a in self.attempts]}


class TeamSupervisor(Base):
    """The supervisor (a dashboard user) whose worklist receives a team's new tasks."""

    __tablename__ = "team_supervisors"

    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskLeg(Base):
    """A further unhappy leg of the same caller within the window: evidence on the caller's open
    task, not a task of its own. ``leg_id`` is the key, so a leg is attached once."""

    __tablename__ = "callback_task_legs"

    leg_id: Mapped[int] = mapped_column(ForeignKey("legs.id"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


CHECK_KINDS = ("capacity", "resolved")
"""What a caller check follows: ``capacity`` (a polite follow-up instead of a task, the team's
day being full) or ``resolved`` (the supervisor marked the call-back resolved). Both ask the
caller one question: "Is your question resolved now?"."""
CHECK_STATES = ("queued", "sending", "sent", "answered", "expired", "failed", "skipped")


class CallerCheck(Base):
    """One SMS asking a task's caller whether their question is resolved now; one per task and kind."""

    __tablename__ = "callback_checks"
    __table_args__ = (UniqueConstraint("task_id", "kind"), Index("ix_callback_checks_to_number_state",
                                                                  "to_number", "state"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id"))
    kind: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str] = mapped_column(String(240), default="")   # why skipped or failed
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    answer: Mapped[int | None] = mapped_column(Integer)            # 1 yes, 2 no
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


ATTEMPT_STATES = ("queued", "sending", "ringing", "connecting", "connected", "not-reached", "supervisor-missed",
                  "failed")
"""``queued``: recorded, its job submitted; ``sending``: the REST request is under way (or its
outcome unknown: Twilio is asked before any retry); ``ringing``: Twilio rings the supervisor
(``twilio_sid``); ``connecting``: the supervisor answered, the caller's phone rings. Final:
``connected`` (the caller answered), ``not-reached`` (busy, no answer, failed: ``outcome``),
``supervisor-missed`` (the supervisor did not answer: ``outcome``), ``failed`` (Twilio
refused the call, ``error_code``; retries exhausted; or the supervisor hung up first)."""
ACTIVE_ATTEMPT = ("queued", "sending", "ringing", "connecting")


class CallAttempt(Base):
    """One "call back": Twilio rings the supervisor, then dials the caller from the centre's number.

    ``active_task_id`` is the task's id while the attempt is active and NULL once it ended:
    its UNIQUE constraint is the claim that makes a double click, a retry or two supervisors
    at once ring one call per task (NULLs never collide on SQLite or PostgreSQL).
    ``active_ring_to`` does the same for the phone rung: one call at a time per supervisor,
    which is also what lets an attempt of unknown outcome be found at Twilio by its ``To``."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    active_task_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    active_ring_to: Mapped[str | None] = mapped_column(String(80), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ring_to: Mapped[str] = mapped_column(String(80))          # +E.164 or client:<identity>
    state: Mapped[str] = mapped_column(String(20), default="queued")
    outcome: Mapped[str] = mapped_column(String(32), default="")   # Twilio's status that ended it
    tries: Mapped[int] = mapped_column(Integer, default=0)
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # set: a REST outcome unknown
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    caller_sid: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(240), default="")
    talk_seconds: Mapped[int | None] = mapped_column(Integer)   # the caller's leg: DialCallDuration
    call_seconds: Mapped[int | None] = mapped_column(Integer)   # the supervisor's leg: CallDuration
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_dict(self) -> dict:
        at = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"id": self.id, "user_id": self.user_id, "state": self.state, "outcome": self.outcome,
                "twilio_sid": self.twilio_sid, "error_code": self.error_code, "error": self.error,
                "talk_seconds": self.talk_seconds, "call_seconds": self.call_seconds, "tries": self.tries,
                "created_at": at(self.created_at), "updated_at": at(self.updated_at), "ended_at": at(self.ended_at)}
