"""The calls list: which calls a selection holds (range, agent, team, queue, outcome, a
caller number or CallSid), how many, and one page of them. No Flask here.

A call belongs to a range by ``Call.started_at`` (Twilio's time). Caller numbers leave this
module masked (``dashboard.masking.mask``): a supervisor finds a caller by the digits they were
told, but a list, a page or a CSV never shows a whole number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from dashboard.i18n import N_, InputError, shown
from dashboard.masking import mask
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer

OUTCOMES = ("handled", "unanswered", "ivr")   # an agent talked / queued but never bridged / never queued
MIN_DIGITS = 4
CALL_SID = re.compile(r"CA[0-9A-Za-z]{1,62}")
NUMBER = re.compile(r"\+?[0-9 ().-]+")
BAD_SEARCH = N_("Search by a caller number (the whole number or at least its last %(min)s digits) or a "
                "CallSid (CA…), not “%(value)s”; the search was not applied.")


@dataclass(frozen=True)
class Search:
    """A parsed search box: a CallSid, or the trailing digits of a caller number."""

    sid: str | None = None
    digits: str | None = None


def parse_search(raw: str | None) -> Search | None:
    """``None`` for an empty box; raises ``InputError`` for text that is neither."""
    text = (raw or "").strip()
    if not text:
        return None
    if CALL_SID.fullmatch(text):
        return Search(sid=text)
    digits = re.sub(r"\D", "", text)
    if NUMBER.fullmatch(text) and len(digits) >= MIN_DIGITS and len(digits) <= 20:
        return Search(digits=digits)
    raise InputError(BAD_SEARCH, min=MIN_DIGITS, value=shown(text))


@dataclass(frozen=True)
class CallFilter:
    start: datetime
    end: datetime
    agent_id: str | None = None
    team: str | None = None
    queue: str | None = None
    outcome: str | None = None
    search: Search | None = None
    caller: str | None = None    # a CallSid: only the calls from that call's number (an opaque handle)


@dataclass(frozen=True)
class CallRow:
    sid: str
    started_at: datetime
    caller: str          # masked
    language: str | None
    status: str
    duration: int | None
    agents: tuple[str, ...]
    talk_seconds: int
    ended_by: str | None
    answers: dict


def _selection(f: CallFilter):
    query = select(Call).where(Call.started_at >= f.start, Call.started_at < f.end)
    if f.agent_id or f.team:
        legs = select(Leg.call_sid).join(Agent, Agent.id == Leg.agent_id)
        legs = legs.where(Leg.agent_id == f.agent_id) if f.agent_id else legs.where(Agent.team == f.team)
        query = query.where(Call.sid.in_(legs))
    if f.queue:
        query = query.where(exists().where(QueueEntry.call_sid == Call.sid, QueueEntry.queue == f.queue))
    if f.outcome:
        bridged = exists().where(Leg.call_sid == Call.sid, Leg.bridged.is_(True))
        queued = exists().where(QueueEntry.call_sid == Call.sid)
        query = query.where({"handled": bridged, "unanswered": queued & ~bridged, "ivr": ~queued}[f.outcome])
    if f.caller:
        known = aliased(Call)
        query = query.where(Call.from_number == select(known.from_number).where(known.sid == f.caller)
                            .scalar_subquery())
    if f.search and f.search.sid:
        query = query.where(Call.sid == f.search.sid)
    elif f.search:
        query = query.where(Call.from_number.like(f"%{f.search.digits}"))
    return query


def count_calls(session: Session, f: CallFilter) -> int:
    return session.scalar(select(func.count()).select_from(_selection(f).subquery()))


def list_calls(session: Session, f: CallFilter, *, offset: int = 0, limit: int | None = 200,
               after: CallRow | None = None) -> list[CallRow]:
    """The selection's calls, newest first, from ``offset`` (or those listed after ``after``);
    with an agent, only their legs and answers."""
    query = _selection(f)
    if after is not None:
        query = query.where(or_(Call.started_at < after.started_at,
                                and_(Call.started_at == after.started_at, Call.sid > after.sid)))
    query = query.order_by(Call.started_at.desc(), Call.sid).offset(offset)
    calls = list(session.scalars(query.limit(limit) if limit else query))
    sids = [c.sid for c in calls]
    legs_by_call: dict[str, list[Leg]] = {}
    answers: dict[str, dict] = {}
    agent_id = f.agent_id
    for chunk in (sids[i:i + 500] for i in range(0, len(sids), 500)):
        for leg in session.scalars(select(Leg).where(Leg.call_sid.in_(chunk)).order_by(Leg.seq)):
            legs_by_call.setdefault(leg.call_sid, []).append(leg)
        for a in session.scalars(select(SurveyAnswer).where(SurveyAnswer.call_sid.in_(chunk))
                                 .order_by(SurveyAnswer.id)):
            if a.status == "answered" and (agent_id is None or a.agent_id == agent_id):
                answers.setdefault(a.call_sid, {})[a.question] = a.value
    rows = []
    for c in calls:
        legs = [leg for leg in legs_by_call.get(c.sid, []) if agent_id is None or leg.agent_id == agent_id]
        last = next((leg for leg in reversed(legs) if leg.bridged), None)
        rows.append(CallRow(c.sid, c.started_at, mask(c.from_number), c.language, c.status, c.duration,
                            tuple(dict.fromkeys(leg.agent_id for leg in legs)),
                            sum(leg.talk_seconds or 0 for leg in legs if leg.bridged),
                            last.ended_by if last else None, answers.get(c.sid, {})))
    return rows


def iter_calls(session: Session, f: CallFilter, chunk: int = 2000):
    """Every call of the selection in the list's order, read ``chunk`` at a time (a CSV of a
    busy month must not hold a million rows in memory)."""
    last = None
    while True:
        rows = list_calls(session, f, limit=chunk, after=last)
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1]


def caller_number(session: Session, key: str | None) -> str | None:
    """The number behind a caller key (the CallSid of one of their calls): links to a caller's
    calls and tasks carry the key, so a whole number never appears in a URL or a server log."""
    if not key or not CALL_SID.fullmatch(key):
        return None
    return session.scalar(select(Call.from_number).where(Call.sid == key))


def queues(session: Session) -> list[str]:
    return list(session.scalars(select(QueueEntry.queue).distinct().order_by(QueueEntry.queue)))
