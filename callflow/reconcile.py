"""Settling, from what Twilio says, calls our records say are still going long after any real
call could have ended (a Dial action or final status callback that never reached us).

``stuck`` finds them: a call not in a final status, an agent leg with no end, a queue entry
still waiting or reserved, created more than ``older_than`` ago (default 4 h: Twilio's
``<Dial>`` ``timeLimit`` default, so no agent leg lasts longer). ``settle`` applies Twilio's
answer through the same functions as the live webhooks: a final status closes the call
(``callflow.calls.apply_status``: open legs ended, their agents freed, queue entries
settled); a call Twilio still reports live keeps going, but its legs older than the limit
are ended (``callflow.legs.finish_leg``). ``free_idle_busy`` frees an agent left ``busy``
with no open leg or reservation at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from callflow.calls import FINAL_STATUSES, apply_status
from callflow.legs import finish_leg
from callflow.routing import RESERVED, WAITING, release_agent, release_reservation
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry

OPEN_ENTRY = (WAITING, RESERVED)


@dataclass(frozen=True)
class TwilioCall:
    """A call as Twilio's REST API reports it (``calls(sid).fetch()``); None status: unknown to Twilio."""
    status: str | None
    duration: int | None = None
    ended_at: datetime | None = None


class CallLookup(Protocol):
    def call_state(self, sid: str) -> TwilioCall: ...


def stuck(session: Session, now: datetime, older_than: timedelta) -> list[str]:
    """The CallSids with something still open that began before ``now - older_than``, oldest first."""
    cutoff = now - older_than
    sids = set(session.scalars(select(Call.sid).where(Call.status.not_in(FINAL_STATUSES), Call.created_at < cutoff)))
    sids |= set(session.scalars(select(Leg.call_sid).where(Leg.dial_status.is_(None), Leg.created_at < cutoff)))
    sids |= set(session.scalars(select(QueueEntry.call_sid).where(QueueEntry.state.in_(OPEN_ENTRY),
                                                                   QueueEntry.created_at < cutoff)))
    return sorted(sids)


def settle(session: Session, sid: str, twilio: TwilioCall, now: datetime, older_than: timedelta) -> str:
    """Apply Twilio's word on one stuck call; returns ``closed``, ``legs-ended`` or ``live``."""
    call = session.get(Call, sid)
    if twilio.status is None or twilio.status in FINAL_STATUSES:
        # Unknown to Twilio: nothing of it runs there, so nothing may stay open here.
        apply_status(session, call, twilio.status or "canceled", None, twilio.duration, twilio.ended_at)
        return "closed"
    cutoff = now - older_than
    ended = 0
    for leg in session.scalars(select(Leg).where(Leg.call_sid == sid, Leg.dial_status.is_(None),
                                                 Leg.created_at < cutoff)):
        finish_leg(session, leg, dial_status="unknown", ended_by=None)   # Dial's timeLimit ended it
        ended += 1
    for entry in session.scalars(select(QueueEntry).where(QueueEntry.call_sid == sid, QueueEntry.state == RESERVED,
                                                          QueueEntry.created_at < cutoff)):
        release_reservation(session, entry)   # an agent held for hours: the caller waits on, unheld
        entry.state, entry.agent_id = WAITING, None
        ended += 1
    return "legs-ended" if ended else "live"


def free_idle_busy(session: Session, now: datetime, older_than: timedelta) -> int:
    """Agents ``busy`` since before the limit with no open leg and no reservation: free them."""
    holding = select(Leg.agent_id).where(Leg.dial_status.is_(None)).union(
        select(QueueEntry.agent_id).where(QueueEntry.state == RESERVED, QueueEntry.agent_id.is_not(None)))
    idle = list(session.scalars(select(Agent.id).where(Agent.presence == "busy",
                                                      Agent.presence_changed_at < now - older_than,
                                                      Agent.id.not_in(holding))))
    for agent_id in idle:
        release_agent(session, agent_id, 0)
    return len(idle)
