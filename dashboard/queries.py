"""Read-only queries the dashboard needs and no scoring module provides: a call's
timeline and the agent-ended talk-time distribution. No Flask here.

A call belongs to a period by ``Call.started_at`` (Twilio's time), never by when a row
was written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.agents import Agent
from store.calls import Call, Leg, WebhookEvent

IVR_STEPS = ("language", "menu")


@dataclass(frozen=True)
class Event:
    """One line of a call's timeline; ``kind`` picks how the page renders ``data``."""

    kind: str  # ivr | queue | leg | answer
    at: datetime | None
    data: dict = field(default_factory=dict)


def _ivr_events(session: Session, call_sid: str) -> list[Event]:
    rows = session.scalars(select(WebhookEvent).where(WebhookEvent.call_sid == call_sid)
                           .order_by(WebhookEvent.received_at, WebhookEvent.id))
    out = []
    for ev in rows:
        name, _, attempt = ev.step.partition(":")
        if name in IVR_STEPS:
            digits = (ev.params or {}).get("Digits") or ""
            out.append(Event("ivr", ev.received_at, {"step": name, "attempt": attempt or "1", "digits": digits}))
    return out


def call_timeline(session: Session, call_sid: str) -> tuple[Call, list[Event]] | None:
    """The call and its story in order: IVR choices, queue visits, agent legs, answers."""
    call = session.get(Call, call_sid)
    if call is None:
        return None
    events = _ivr_events(session, call_sid)
    legs_by_entry = {leg.entry_id: leg for leg in call.legs}
    for entry in call.entries:
        events.append(Event("queue", entry.created_at, {
            "visit": entry.visit, "queue": entry.queue, "reason": entry.reason, "state": entry.state,
            "wait_seconds": entry.wait_seconds, "result": entry.result}))
        leg = legs_by_entry.get(entry.id)
        if leg is None:
            continue
        events.append(Event("leg", leg.created_at, {
            "id": leg.id, "seq": leg.seq, "agent_id": leg.agent_id, "queue": leg.queue,
            "dial_status": leg.dial_status, "bridged": leg.bridged, "talk_seconds": leg.talk_seconds,
            "ended_by": leg.ended_by, "survey_state": leg.survey_state}))
        for answer in leg.answers:
            events.append(Event("answer", answer.created_at, {
                "leg_id": leg.id, "agent_id": answer.agent_id, "question": answer.question,
                "value": answer.value, "status": answer.status}))
    return call, events


def agent_ended_talk_times(session: Session, start: datetime, end: datetime, *,
                           agent_id: str | None = None, team: str | None = None) -> dict[str, list[int]]:
    """Talk seconds of bridged legs the agent hung up, per agent, for calls started in [start, end).

    Caller hang-ups are left out on purpose: a bump just under the cap only means something
    when the agent chose to end the call.
    """
    query = (select(Leg.agent_id, Leg.talk_seconds).join(Call, Call.sid == Leg.call_sid)
             .where(Call.started_at >= start, Call.started_at < end, Leg.bridged.is_(True),
                    Leg.ended_by == "agent", Leg.talk_seconds.is_not(None)))
    if agent_id:
        query = query.where(Leg.agent_id == agent_id)
    if team:
        query = query.join(Agent, Agent.id == Leg.agent_id).where(Agent.team == team)
    out: dict[str, list[int]] = {}
    for agent, talk in session.execute(query.order_by(Leg.agent_id, Leg.talk_seconds)):
        out.setdefault(agent, []).append(talk)
    return out


def bin_counts(values: list[int], width: int, upper: int) -> list[int]:
    """Counts per ``width``-second bin over [0, upper); longer values land in the last bin."""
    if width <= 0 or upper <= 0 or upper % width:
        raise ValueError("upper must be a positive multiple of a positive bin width")
    counts = [0] * (upper // width)
    for v in values:
        counts[min(max(v, 0) // width, len(counts) - 1)] += 1
    return counts


def teams(session: Session) -> list[str]:
    return [t for t in session.scalars(select(Agent.team).distinct().order_by(Agent.team)) if t]


def agent_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Agent.id)))


@dataclass(frozen=True)
class LegRow:
    leg_id: int
    call_sid: str
    started_at: datetime
    queue: str
    talk_seconds: int
    ended_by: str | None


def legs_by_id(session: Session, leg_ids: list[int]) -> dict[int, LegRow]:
    """The legs behind a finding (its evidence's ``leg_ids``), with their call's start."""
    out: dict[int, LegRow] = {}
    ids = sorted(set(leg_ids))
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(Leg.id, Leg.call_sid, Call.started_at, Leg.queue, Leg.talk_seconds, Leg.ended_by)
            .join(Call, Call.sid == Leg.call_sid).where(Leg.id.in_(ids[i:i + 500])))
        out.update((r[0], LegRow(r[0], r[1], r[2], r[3], r[4] or 0, r[5])) for r in rows)
    return out
