"""The end of an agent leg, decided in one place.

A leg ends when Twilio requests the Dial ``action`` (``callflow.journey.end_leg``) or, if
that never comes because the caller hung up first, when the call's final status arrives
(``callflow.calls.close_call``). Either way the agent is freed exactly here.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from callflow.routing import release_agent, set_presence
from store.agents import Agent
from store.base import utcnow
from store.calls import Leg


def finish_leg(session: Session, leg: Leg, *, dial_status: str, ended_by: str | None, bridged: bool | None = None,
               talk_seconds: int | None = None, dial_call_sid: str | None = None, agent_unreachable: bool = False,
               wrapup_seconds: int = 0, at: datetime | None = None) -> None:
    """Record how the leg ended; the agent wraps up and becomes free, or goes offline when
    they never answered. ``at``: when Twilio reported the end (the call's ``Timestamp``, or
    when a webhook kept during an outage came), else now."""
    leg.dial_status = dial_status[:16]
    leg.dial_call_sid = (dial_call_sid or "")[:64] or None
    leg.bridged = bridged
    leg.talk_seconds = talk_seconds
    leg.ended_by = ended_by
    leg.ended_at = at or utcnow()
    if agent_unreachable:
        set_presence(session, session.get(Agent, leg.agent_id), "offline")
    else:
        release_agent(session, leg.agent_id, wrapup_seconds)
