"""Call-back tasks: a supervisor owes an unhappy caller a call (issue 14).

One task per leg (``UNIQUE(leg_id)``): however often a trigger repeats or a sweep runs, the
leg has one task. ``team_supervisors`` says whose worklist a team's tasks land on.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

TASK_STATES = ("open", "called", "resolved", "not-reached", "declined")
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

    def to_dict(self) -> dict:
        return {"id": self.id, "leg_id": self.leg_id, "call_sid": self.call_sid, "agent_id": self.agent_id,
                "team": self.team, "reason": self.reason, "owner_id": self.owner_id, "state": self.state,
                "note": self.note, "due_at": self.due_at.isoformat(), "opened_at": self.opened_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None}


class TeamSupervisor(Base):
    """The supervisor (a dashboard user) whose worklist receives a team's new tasks."""

    __tablename__ = "team_supervisors"

    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
