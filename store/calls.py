"""What happened on each call, as Twilio reported it.

A call visits queues (``QueueEntry``), each bridged or attempted agent is a ``Leg``, and
survey answers hang off the leg whose agent they judge. ``WebhookEvent`` keeps every
state-changing webhook as received, with the TwiML we answered: it makes retries
idempotent and lets scoring be recomputed from the record.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, insert, select,
                        update)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, UTCDateTime, autocommit_cursor, dialect_insert, utcnow


class Call(Base):
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


# --- the survey answer's hot path: one statement per answer -----------------------------

STORED, DUPLICATE, REFUSED = "stored", "duplicate", "refused"

# PostgreSQL: the leg check, the step record (idempotency key), the answer and the leg's
# "finished" mark in ONE statement, run in autocommit (it is its own durable transaction).
# The answer and the mark depend on the step record being new (``ev``), so a duplicate or a
# late retry changes nothing; the last column is the TwiML stored by an earlier delivery.
_PG_SURVEY_STEP = """
WITH leg AS (
    SELECT id, call_sid, agent_id, survey_version FROM legs
    WHERE id = %(leg_id)s::integer AND call_sid = %(call_sid)s::varchar AND survey_state <> 'not-offered'
), ev AS (
    INSERT INTO webhook_events (call_sid, step, endpoint, params, twiml, received_at)
    SELECT %(call_sid)s::varchar, %(step)s::varchar, %(endpoint)s::varchar, %(params)s::json, %(twiml)s::text,
           %(now)s::timestamptz
    FROM leg
    ON CONFLICT (call_sid, step) DO NOTHING
    RETURNING id
), ans AS (
    INSERT INTO survey_answers (leg_id, call_sid, agent_id, survey_version, question, value, status, created_at)
    SELECT leg.id, leg.call_sid, leg.agent_id, coalesce(leg.survey_version, %(version)s::varchar),
           %(question)s::varchar, %(value)s::integer, %(status)s::varchar, %(now)s::timestamptz
    FROM leg, ev
    WHERE %(question)s::varchar IS NOT NULL
    ON CONFLICT (leg_id, question) DO NOTHING
), fin AS (
    UPDATE legs SET survey_state = 'finished' FROM ev
    WHERE legs.id = %(leg_id)s::integer AND %(finish)s::boolean
)
SELECT (SELECT count(*) FROM leg), (SELECT count(*) FROM ev),
       (SELECT twiml FROM webhook_events WHERE call_sid = %(call_sid)s::varchar AND step = %(step)s::varchar)
"""


_PG_STORED_TWIML = "SELECT twiml FROM webhook_events WHERE call_sid = %(call_sid)s AND step = %(step)s"


def record_survey_step(engine, *, call_sid: str, step: str, endpoint: str, params: dict, twiml: str,
                       leg_id: int, answer: dict | None, finish: bool, version: str) -> tuple[str, str | None]:
    """Store one survey step exactly once: the webhook event (``call_sid`` + ``step``) with
    its ``twiml``, the ``answer`` (``question``, ``value``, ``status``; None for a re-prompt)
    attributed to the leg's agent, and the leg marked finished if ``finish``.

    Returns ``(STORED, twiml)``; ``(DUPLICATE, stored TwiML)`` when the step was stored
    before (nothing changes); ``(REFUSED, None)`` when no survey runs on that leg of that call.
    One round trip on PostgreSQL; a short transaction on SQLite.
    """
    answer = answer or {}
    values = {"call_sid": call_sid, "step": step, "endpoint": endpoint, "twiml": twiml, "leg_id": leg_id,
              "question": answer.get("question"), "value": answer.get("value"), "status": answer.get("status"),
              "finish": finish, "version": version, "now": utcnow()}
    if engine.dialect.name == "postgresql":
        values["params"] = json.dumps(params, ensure_ascii=False)
        with autocommit_cursor(engine) as cur:
            found, inserted, stored = cur.execute(_PG_SURVEY_STEP, values).fetchone()
            if inserted:
                return STORED, twiml
            if stored is None and found:
                # A concurrent duplicate stored it after this statement's snapshot was taken.
                stored = (cur.execute(_PG_STORED_TWIML, values).fetchone() or (None,))[0]
        if stored is not None:
            return DUPLICATE, stored
        return REFUSED, None
    return _record_survey_step_portable(engine, values, params)


def _record_survey_step_portable(engine, values: dict, params: dict) -> tuple[str, str | None]:
    """The same as a short transaction of plain statements (SQLite has no DML in WITH)."""
    events, legs, answers = WebhookEvent.__table__, Leg.__table__, SurveyAnswer.__table__
    with engine.begin() as conn:
        stored = conn.execute(select(events.c.twiml).where(events.c.call_sid == values["call_sid"],
                                                           events.c.step == values["step"])).first()
        if stored is not None:
            return DUPLICATE, stored.twiml
        leg = conn.execute(select(legs.c.id, legs.c.call_sid, legs.c.agent_id, legs.c.survey_version).where(
            legs.c.id == values["leg_id"], legs.c.call_sid == values["call_sid"],
            legs.c.survey_state != "not-offered")).first()
        if leg is None:
            return REFUSED, None
        # A concurrent duplicate makes this INSERT fail (IntegrityError); the caller answers as it did.
        conn.execute(insert(events).values(call_sid=values["call_sid"], step=values["step"],
                                           endpoint=values["endpoint"], params=params, twiml=values["twiml"],
                                           received_at=values["now"]))
        if values["question"] is not None:
            conn.execute(dialect_insert(conn, answers).values(
                leg_id=leg.id, call_sid=leg.call_sid, agent_id=leg.agent_id,
                survey_version=leg.survey_version or values["version"], question=values["question"],
                value=values["value"], status=values["status"], created_at=values["now"]).on_conflict_do_nothing())
        if values["finish"]:
            conn.execute(update(legs).where(legs.c.id == leg.id).values(survey_state="finished"))
    return STORED, values["twiml"]
