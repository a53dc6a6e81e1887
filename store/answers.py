"""Writing a survey answer: the statements behind ``survey.answers.record_answer``.

Two implementations of one write. On PostgreSQL, when the answer comes with its webhook's
step record (the in-call hot path), the leg check, the step record (the idempotency key),
the answer and the leg's "finished" mark are ONE statement in autocommit. Everywhere else
(SQLite, a transaction already open, the spool replay, follow-up channels) the same checks
and inserts run as plain statements in the caller's transaction. Either way an answer is
stored once per ``(leg_id, question)``: a retry, a duplicate or a second channel answering
the same question changes nothing.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from store.base import autocommit_cursor, dialect_insert, utcnow
from store.calls import Call, Leg, SurveyAnswer, WebhookEvent
from store.rollup import forget_days_of

STORED, DUPLICATE, REFUSED = "stored", "duplicate", "refused"

# The leg check, the step record, the answer and the "finished" mark in one statement. The
# answer and the mark depend on the step record being new (``ev``), so a duplicate or a late
# retry changes nothing; the last column is the TwiML stored by an earlier delivery.
_PG_STEP = """
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
    INSERT INTO survey_answers (leg_id, call_sid, agent_id, survey_version, question, value, status, channel,
                                created_at)
    SELECT leg.id, leg.call_sid, leg.agent_id, coalesce(leg.survey_version, %(version)s::varchar),
           %(question)s::varchar, %(value)s::integer, %(status)s::varchar, %(channel)s::varchar, %(now)s::timestamptz
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


def write_answer(bind: Engine | Session | Connection, *, leg_id: int, call_sid: str, question: str | None,
                 value: int | None, status: str | None, channel: str, finish: bool, version: str,
                 at: datetime | None = None, event: dict | None = None) -> tuple[str, str | None]:
    """Store one answer (``question`` None: only the step, e.g. a re-prompt) on the leg, once.

    ``bind`` is an Engine (its own transaction) or a Session/Connection (the caller's).
    ``event`` (``step``, ``endpoint``, ``params``, ``twiml``) is the webhook step stored with
    it as its idempotency key. Returns ``(STORED, twiml)``; ``(DUPLICATE, stored TwiML)`` when
    that step was stored before; ``(REFUSED, None)`` when no survey runs on that leg of that
    call. A concurrent duplicate step raises ``IntegrityError`` on the portable path."""
    values = {"call_sid": call_sid, "leg_id": leg_id, "question": question, "value": value, "status": status,
              "channel": channel, "finish": finish, "version": version, "now": at or utcnow(),
              **(event or {})}
    if isinstance(bind, Engine):
        if event is not None and bind.dialect.name == "postgresql":
            return _one_statement(bind, values)
        with bind.begin() as conn:
            return _statements(conn, values, event is not None)
    if isinstance(bind, Session):
        bind.flush()   # the checks below read the rows, so pending changes must be in them
        bind = bind.connection()
    return _statements(bind, values, event is not None)


def _one_statement(engine: Engine, values: dict) -> tuple[str, str | None]:
    values = {**values, "params": json.dumps(values["params"], ensure_ascii=False)}
    with autocommit_cursor(engine) as cur:
        found, inserted, stored = cur.execute(_PG_STEP, values).fetchone()
        if inserted:
            return STORED, values["twiml"]
        if stored is None and found:
            # A concurrent duplicate stored it after this statement's snapshot was taken.
            stored = (cur.execute(_PG_STORED_TWIML, values).fetchone() or (None,))[0]
    if stored is not None:
        return DUPLICATE, stored
    return REFUSED, None


def _statements(conn: Connection, v: dict, keyed: bool) -> tuple[str, str | None]:
    events, legs, calls = WebhookEvent.__table__, Leg.__table__, Call.__table__
    if keyed:
        stored = conn.execute(select(events.c.twiml).where(events.c.call_sid == v["call_sid"],
                                                           events.c.step == v["step"])).first()
        if stored is not None:
            return DUPLICATE, stored.twiml
    leg = conn.execute(select(legs.c.id, legs.c.call_sid, legs.c.agent_id, legs.c.survey_version).where(
        legs.c.id == v["leg_id"], legs.c.call_sid == v["call_sid"], legs.c.survey_state != "not-offered")).first()
    if leg is None:
        return REFUSED, None
    if keyed:
        conn.execute(insert(events).values(call_sid=v["call_sid"], step=v["step"], endpoint=v["endpoint"],
                                           params=v["params"], twiml=v["twiml"], received_at=v["now"]))
    if v["question"] is not None:
        conn.execute(dialect_insert(conn, SurveyAnswer.__table__).values(
            leg_id=leg.id, call_sid=leg.call_sid, agent_id=leg.agent_id,
            survey_version=leg.survey_version or v["version"], question=v["question"], value=v["value"],
            status=v["status"], channel=v["channel"], created_at=v["now"]).on_conflict_do_nothing())
    if v["finish"]:
        conn.execute(update(legs).where(legs.c.id == leg.id).values(survey_state="finished"))
    if not keyed:   # a replayed or follow-up answer may come after the call's day was rolled up
        forget_days_of(conn, conn.scalar(select(calls.c.started_at).where(calls.c.sid == leg.call_sid)))
    return STORED, v.get("twiml")
