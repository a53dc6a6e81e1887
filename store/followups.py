"""Follow-up surveys: one row per leg (its idempotency key), and the do-not-contact list.

A ``Followup`` is created once per leg by the planner, whatever the decision (``skipped``
with its reason, or ``scheduled``), so a leg is never planned twice. Sending claims the row
(``scheduled`` → ``sending``) before the REST request and records Twilio's SID after it: a
second worker, an RQ retry or a worker killed mid-send finds the claim and never sends
blindly again (``survey.followups``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

FOLLOWUP_STATES = ("skipped", "scheduled", "sending", "sent", "answered", "expired", "failed", "opted-out",
                   "no-answer")
"""``skipped``: not asked (``reason`` says why); ``scheduled``: waits for ``send_after``;
``sending``: claimed, REST request under way (or its outcome unknown); ``sent``: Twilio
accepted it (``twilio_sid``), replies awaited until ``expires_at``; ``answered``: every
question has a stored answer; ``expired``: no (complete) answer in time; ``failed``: Twilio
refused it for good (``error_code``); ``opted-out``: the caller said STOP; ``no-answer``:
the call-back was not answered by a person (busy, no answer, a machine)."""


class Followup(Base):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_state_send_after", "state", "send_after"),
                      Index("ix_followups_to_number_state", "to_number", "state"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leg_id: Mapped[int] = mapped_column(ForeignKey("legs.id"), unique=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid"))
    channel: Mapped[str] = mapped_column(String(8))                 # sms | callback | none
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    questions: Mapped[list] = mapped_column(JSON, default=list)     # question keys to ask, in order
    position: Mapped[int] = mapped_column(Integer, default=0)      # index into ``questions`` asked now
    reasks: Mapped[int] = mapped_column(Integer, default=0)        # re-asks of the current question
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    twilio_status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        at = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"channel": self.channel, "state": self.state, "reason": self.reason,
                "questions": list(self.questions or []), "send_after": at(self.send_after),
                "sent_at": at(self.sent_at), "expires_at": at(self.expires_at), "answered_at": at(self.answered_at),
                "twilio_sid": self.twilio_sid, "twilio_status": self.twilio_status, "error_code": self.error_code,
                "send_attempts": self.send_attempts}


class OptOut(Base):
    """A number that said STOP (or СТОП…): never surveyed again, on any channel."""

    __tablename__ = "opt_outs"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))       # sms | twilio-21610
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
