"""Queues and agent selection: longest-idle available agent with the skill wins.

A caller is matched from the queue's wait loop (the Enqueue ``waitUrl``): when the
caller's rank among waiting callers is within the number of free skilled agents, an
agent is reserved with a conditional UPDATE, so two web processes can never reserve
the same agent. The agent then goes ``busy`` until the leg ends.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.agents import PRESENCES, Agent
from store.base import utcnow
from store.calls import Call, QueueEntry

WAITING = "waiting"
RESERVED = "reserved"


def enqueue(session: Session, call: Call, queue: str, reason: str, priority: int = 0) -> QueueEntry:
    visit = (session.scalar(select(func.max(QueueEntry.visit)).where(QueueEntry.call_sid == call.sid)) or 0) + 1
    entry = QueueEntry(call_sid=call.sid, visit=visit, queue=queue, reason=reason, priority=priority)
    session.add(entry)
    session.flush()
    return entry


def rank_in_queue(session: Session, entry: QueueEntry) -> int:
    """1-based position among callers still waiting: returning callers first, then by arrival."""
    ahead = session.scalar(
        select(func.count()).select_from(QueueEntry).where(
            QueueEntry.queue == entry.queue,
            QueueEntry.state == WAITING,
            (QueueEntry.priority > entry.priority)
            | ((QueueEntry.priority == entry.priority) & (QueueEntry.id < entry.id)),
        )
    )
    return ahead + 1


def _end_expired_wrapups(session: Session, now: datetime) -> None:
    session.execute(
        update(Agent)
        .where(Agent.presence == "wrap-up", Agent.wrapup_until.is_not(None), Agent.wrapup_until <= now)
        .values(presence="available", available_since=Agent.wrapup_until, wrapup_until=None,
                presence_changed_at=now)
    )


def free_agents(session: Session, queue: str, now: datetime | None = None) -> list[str]:
    """Ids of the available agents with the skill, longest idle first. Ids and skills only, not
    whole agents: the wait loop asks on every round, and a large centre has hundreds free."""
    _end_expired_wrapups(session, now or utcnow())
    rows = session.execute(
        select(Agent.id, Agent.skills).where(Agent.presence == "available", Agent.active.is_(True))
        .order_by(Agent.available_since.asc().nulls_first(), Agent.id)
    )
    return [agent_id for agent_id, skills in rows if queue in (skills or [])]


def try_assign(session: Session, entry: QueueEntry) -> Agent | None:
    """Reserve an agent for a waiting caller if it is the caller's turn; else None."""
    if entry.state == RESERVED:
        return session.get(Agent, entry.agent_id)
    if entry.state != WAITING:
        return None
    candidates = free_agents(session, entry.queue)
    if not candidates or rank_in_queue(session, entry) > len(candidates):
        return None
    now = utcnow()
    for agent_id in candidates:
        taken = session.execute(
            update(Agent).where(Agent.id == agent_id, Agent.presence == "available")
            .values(presence="busy", presence_changed_at=now, available_since=None)
        ).rowcount
        if taken:
            agent = session.get(Agent, agent_id)
            claimed = session.execute(
                update(QueueEntry).where(QueueEntry.id == entry.id, QueueEntry.state == WAITING)
                .values(state=RESERVED, agent_id=agent_id)
            ).rowcount
            if not claimed:  # the caller left meanwhile: give the agent back
                session.refresh(agent)
                set_presence(session, agent, "available")
                return None
            session.refresh(entry)
            session.refresh(agent)
            return agent
    return None


def set_presence(session: Session, agent: Agent, presence: str, wrapup_seconds: int = 0) -> Agent:
    if presence not in PRESENCES:
        raise ValueError(f"presence must be one of {', '.join(PRESENCES)}")
    now = utcnow()
    if presence == "available" and agent.presence == "available":
        return agent  # keep the idle clock running: a repeated PUT is not a new idle period
    agent.presence = presence
    agent.presence_changed_at = now
    agent.available_since = now if presence == "available" else None
    agent.wrapup_until = now + timedelta(seconds=wrapup_seconds) if presence == "wrap-up" else None
    session.flush()
    return agent


def release_agent(session: Session, agent_id: str, wrapup_seconds: int) -> None:
    """The leg is over: the agent wraps up (if configured) and becomes free again."""
    agent = session.get(Agent, agent_id)
    if agent is None or agent.presence != "busy":
        return  # already released, or the agent changed presence themselves
    set_presence(session, agent, "wrap-up" if wrapup_seconds > 0 else "available", wrapup_seconds)


def release_reservation(session: Session, entry: QueueEntry) -> None:
    """A reserved caller hung up before the dial: free the agent."""
    if entry.state == RESERVED and entry.agent_id:
        release_agent(session, entry.agent_id, 0)
