"""An agent's dispute of a flag on their own work (a finding, or a call's verdict), and its answer.

The flag keeps its own review; the dispute records who questioned it, why, and what the
supervisor decided: ``accepted`` dismisses the flag (so scoring no longer counts it),
``rejected`` leaves it as it was, with the supervisor's comment for the agent.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

DISPUTE_STATES = ("open", "accepted", "rejected")


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """The flag's time, copied: the pay period a dispute belongs to, without a join."""
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    def to_dict(self) -> dict:
        return {"id": self.id, "flag_id": self.flag_id, "agent_id": self.agent_id,
                "occurred_at": self.occurred_at.isoformat(), "reason": self.reason, "state": self.state,
                "created_at": self.created_at.isoformat(), "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None, "comment": self.comment}


def open_counts(session, start: datetime, end: datetime) -> dict[str, int]:
    """Open disputes per agent of flags in [start, end): the export's ``disputes_open``."""
    rows = session.execute(select(Dispute.agent_id, func.count()).where(
        Dispute.state == "open", Dispute.occurred_at >= start, Dispute.occurred_at < end).group_by(Dispute.agent_id))
    return {agent: int(n) for agent, n in rows}
