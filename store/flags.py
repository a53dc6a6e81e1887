"""Flags: a rule's finding that a leg or an agent looks like KPI gaming, awaiting review.

Rules are re-run over history whenever they change (``scoring.recompute``). ``key`` is the
finding's natural identity (rule, leg or agent and period), so a re-run updates the
evidence of the same row instead of adding a duplicate, and a supervisor's review stays
attached. A reviewed flag the new rules no longer raise is kept with ``current`` false.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

# Leg verdicts, agent-level findings, and "repeat-call" (retired: stored history only).
KINDS = ("truncated", "cap-cut", "cap-cliff", "repeat-call", "survey-dodging", "early-hangup", "repeat-calls",
         "transfer-out")
STATES = ("open", "confirmed", "dismissed")


class Flag(Base):
    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    leg_id: Mapped[int | None] = mapped_column(ForeignKey("legs.id"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    # When the flagged thing happened: the call's Twilio start, or an agent-level period's start.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    rule_version: Mapped[str] = mapped_column(String(32))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "key": self.key, "kind": self.kind, "leg_id": self.leg_id, "call_sid": self.call_sid,
            "agent_id": self.agent_id, "occurred_at": self.occurred_at.isoformat(),
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "reason": self.reason, "evidence": self.evidence, "rule_version": self.rule_version,
            "current": self.current, "state": self.state, "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
            "review_comment": self.review_comment,
        }
