"""What happened on each call, as Twilio reported it.

A call visits queues (``QueueEntry``), each bridged or attempted agent is a ``Leg``, and
survey answers hang off the leg whose agent they judge. ``WebhookEvent`` keeps every
state-changing webhook as received, with the TwiML we answered: it makes retries
idempotent and lets scoring be recomputed from the record.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from store.base import Base, UTCDateTime, upsert_ignore, utcnow


class Call(Base):
    """On PostgreSQL the table is partitioned by month of ``started_at`` (store.partitions): its
    primary key there is ``(sid, started_at)`` and the foreign keys to ``sid`` are gone, so
    ``insert_call`` is what keeps one row per CallSid."""

    __tablename__ = "calls"
    # Repeat-call lookups (FCR, repeat flags) walk each number's calls in time order.
    __table_args__ = (Index("ix_calls_from_number_started_at", "from_number", "started_at", "sid"),)

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_sid: Mapped[str] = mapped_column(String(64), default="")
    from_number: Mapped[str] = mapped_column(String(64), default="")
    to_number: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    menu_key: Mapped[str | None] = mapped_column(String(8))
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="in-progress")
    status_seq: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[int | None] = mapped_column(Integer)
    # Provisional (server receipt) until the final status callback gives Timestamp - CallDuration.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_source: Mapped[str] = mapped_column(String(8), default="server")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list["QueueEntry"]] = relationship(back_populates="call", order_by="QueueEntry.visit")
    legs: Mapped[list["Leg"]] = relationship(back_populates="call", order_by="Leg.seq")


def _lock_sid(session: Session, sid: str) -> bool:
    """Hold the CallSid's transaction lock on PostgreSQL (True); SQLite serializes its writers."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:sid, 0))"), {"sid": sid})
    return True


def insert_call(session: Session, values: dict) -> None:
    """Insert the call unless its CallSid is stored: the one writer of ``calls`` rows.

    SQLite's primary key is ``sid``. PostgreSQL's holds ``started_at`` too (the partition key),
    so two first webhooks of one call would both insert: they are serialized on the CallSid,
    and the second sees the first's row once it has the lock."""
    if _lock_sid(session, values["sid"]) and session.scalar(select(Call.sid).where(Call.sid == values["sid"])):
        return
    upsert_ignore(session, Call, values)


def lock_call(session: Session, call: Call) -> None:
    """Reload ``call`` as committed and keep others from changing it until this transaction ends.

    A row lock alone fails on PostgreSQL when the holder's final status moves the call to
    another month's partition ("tuple to be locked was already moved"): the CallSid's lock,
    taken first by every writer of status and times, makes the waiter read the moved row."""
    _lock_sid(session, call.sid)
    session.refresh(call, with_for_update=True)


class QueueEntry(Base):
    """One visit of a call to a queue: the unit that SLA figures count as 'offered'."""

    __tablename__ = "queue_entries"
    __table_args__ = (UniqueConstraint("call_sid", "visit"),)   # its index also serves lookups by call_sid

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid"))
    visit: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(16), default="menu")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    result: Mapped[str | None] = mapped_column(String(32))
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    announced_position: Mapped[int | None] = mapped_column(Integer)
    announced_at_wait: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="entries")


class Leg(Base):
    """One agent attempt for a queue entry: rung, bridged, and ended by someone."""

    __tablename__ = "legs"
    __table_args__ = (UniqueConstraint("call_sid", "seq"),)     # its index also serves lookups by call_sid

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid"))
    seq: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id"), unique=True)
    queue: Mapped[str] = mapped_column(String(32), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    queue_seconds: Mapped[int | None] = mapped_column(Integer)
    dial_call_sid: Mapped[str | None] = mapped_column(String(64))
    dial_status: Mapped[str | None] = mapped_column(String(16))
    bridged: Mapped[bool | None] = mapped_column(Boolean)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    ended_by: Mapped[str | None] = mapped_column(String(8))
    survey_state: Mapped[str] = mapped_column(String(16), default="not-offered")
    # The queue the agent sent the caller on to (``callflow.journey.request_transfer``); kept
    # only when the agent's hang-up carried it out, cleared when the caller hung up first.
    transfer_queue: Mapped[str | None] = mapped_column(String(32))
    survey_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call] = relationship(back_populates="legs")
    answers: Mapped[list["SurveyAnswer"]] = relationship(back_populates="leg", order_by="SurveyAnswer.id")


class SurveyAnswer(Base):
    """A survey question's outcome, attributed to the agent of the leg it follows."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("leg_id", "question"),)  # its index also serves lookups by leg_id

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leg_id: Mapped[int] = mapped_column(ForeignKey("legs.id"))
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))   # never searched on: no index
    survey_version: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(String(32))
    value: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # answered | no-input | invalid
    channel: Mapped[str] = mapped_column(String(8), default="call", server_default="call")  # call | sms | callback
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    leg: Mapped[Leg] = relationship(back_populates="answers")


class WebhookEvent(Base):
    """A state-changing webhook as received, keyed by call and step, with our TwiML answer."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("call_sid", "step"),)    # its index also serves lookups by call_sid

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(160))
    endpoint: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    twiml: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
