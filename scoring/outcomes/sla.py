"""Classic contact-center SLA figures per queue, agent or team, set-based in one query.

The unit is a queue visit (``QueueEntry``): what the ACD calls a contact offered to a queue.
Definitions (docs/scoring.md):

* offered = finished visits − short abandons; visits still waiting or talking are counted
  apart (``in_progress``) and left out of every rate.
* handled = an agent leg of the visit was bridged.
* abandoned = the caller hung up in the queue after ``short_abandon_seconds``, or while the
  agent's phone rang. Short abandons (under a few seconds: misdials, instant regret) are
  excluded from offered and counted in ``short_abandons``.
* redirected = the agent did not answer (no-answer, busy) and the caller went back to the
  queue: that visit is neither handled nor abandoned; the new visit is offered again.
* abandonment rate = abandoned / offered; service level = handled within X s of queue time
  / offered; ASA = mean queue time of handled visits; AHT = mean talk time of handled legs;
  transfer-back rate = callers pressing 1 on "anything else?" / callers answering it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from scoring import metrics
from scoring.outcomes.classify import started_between
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer

TRANSFER_QUESTION, TRANSFER_VALUE = "anything_else", 1  # survey.toml: transfer_on = 1
GROUPS = ("queue", "agent", "team")


@dataclass(frozen=True)
class SlaRow:
    key: str | None            # the queue, agent id or team; None = visits never routed to an agent
    offered: int
    handled: int
    abandoned: int
    short_abandons: int
    redirected: int
    failed: int
    in_progress: int
    answered_within: int
    abandonment_rate: float | None
    service_level: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    transfer_backs: int
    transfer_back_answers: int
    transfer_back_rate: float | None

    @property
    def others(self) -> int:
        """Offered but neither handled nor abandoned: the agent did not answer and the caller went
        back to the queue (``redirected``), or the visit failed; offered = handled + abandoned + others."""
        return self.redirected + self.failed


def sla_report(session: Session, start: datetime, end: datetime, by: str = "queue", sla_seconds: int = 20,
               short_abandon_seconds: int = 5) -> list[SlaRow]:
    """SLA figures of queue visits of calls started in [start, end), one row per ``by`` value."""
    if by not in GROUPS:
        raise ValueError(f"by must be one of {', '.join(GROUPS)}")
    if sla_seconds < 1 or short_abandon_seconds < 0:
        raise ValueError("sla_seconds must be >= 1 and short_abandon_seconds >= 0")
    later = aliased(QueueEntry)
    requeued = exists().where(later.call_sid == QueueEntry.call_sid, later.visit > QueueEntry.visit)
    wait = func.coalesce(QueueEntry.wait_seconds, 0)
    q3 = aliased(SurveyAnswer)
    running = QueueEntry.state.in_(("waiting", "reserved")) | (Leg.id.is_not(None) & Leg.dial_status.is_(None))
    bridged = Leg.bridged.is_(True)
    unbridged_leg = Leg.id.is_not(None) & ~bridged & ~running
    kind = case(
        (running, literal("in_progress")),
        (bridged, literal("handled")),
        ((QueueEntry.state == "abandoned") & (wait < short_abandon_seconds), literal("short")),
        (QueueEntry.state == "abandoned", literal("abandoned")),
        (unbridged_leg & requeued, literal("redirected")),
        (unbridged_leg, literal("abandoned")),  # hung up while the agent's phone rang
        else_=literal("failed"),
    )
    key = {"queue": QueueEntry.queue, "agent": Leg.agent_id, "team": Agent.team}[by]
    sub = (
        select(key.label("key"), kind.label("kind"), wait.label("wait"), Leg.talk_seconds.label("talk"),
               q3.value.label("q3"))
        .select_from(QueueEntry)
        .join(Call, Call.sid == QueueEntry.call_sid)
        .outerjoin(Leg, Leg.entry_id == QueueEntry.id)
        .outerjoin(Agent, Agent.id == Leg.agent_id)
        .outerjoin(q3, (q3.leg_id == Leg.id) & (q3.question == TRANSFER_QUESTION) & (q3.status == "answered"))
        .where(started_between(start, end))
        .subquery()
    )

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    handled = sub.c.kind == "handled"
    rows = session.execute(
        select(sub.c.key, func.count().label("visits"),
               count(handled).label("handled"), count(sub.c.kind == "abandoned").label("abandoned"),
               count(sub.c.kind == "short").label("short"), count(sub.c.kind == "redirected").label("redirected"),
               count(sub.c.kind == "failed").label("failed"), count(sub.c.kind == "in_progress").label("running"),
               count(handled & (sub.c.wait <= sla_seconds)).label("within"),
               func.sum(case((handled, sub.c.wait), else_=0)).label("wait"),
               func.sum(case((handled, sub.c.talk))).label("talk"),
               count(handled & sub.c.talk.is_not(None)).label("talked"),
               count(sub.c.q3 == TRANSFER_VALUE).label("transfers"), count(sub.c.q3.is_not(None)).label("q3s"))
        .group_by(sub.c.key)
        .order_by(sub.c.key)
    ).all()
    out = []
    for r in rows:
        offered = r.visits - r.short - r.running
        out.append(SlaRow(
            key=r.key or None, offered=offered, handled=r.handled, abandoned=r.abandoned, short_abandons=r.short,
            redirected=r.redirected, failed=r.failed, in_progress=r.running, answered_within=r.within,
            abandonment_rate=metrics.rate(r.abandoned, offered), service_level=metrics.rate(r.within, offered),
            asa_seconds=metrics.asa(int(r.wait or 0), r.handled),
            aht_seconds=metrics.aht(int(r.talk or 0), r.talked),
            transfer_backs=r.transfers, transfer_back_answers=r.q3s,
            transfer_back_rate=metrics.rate(r.transfers, r.q3s),
        ))
    return out


def sla_total(rows: list[SlaRow]) -> dict:
    """The centre's figures from per-queue rows: each queue visit belongs to exactly one queue."""
    offered = sum(r.offered for r in rows)
    handled = sum(r.handled for r in rows)
    abandoned = sum(r.abandoned for r in rows)
    waited = sum(r.asa_seconds * r.handled for r in rows if r.asa_seconds is not None)
    return {
        "offered": offered, "handled": handled, "abandoned": abandoned,
        "short_abandons": sum(r.short_abandons for r in rows),
        # the rest of offered, so offered = handled + abandoned + others (= redirected + failed)
        "others": sum(r.others for r in rows),
        "redirected": sum(r.redirected for r in rows), "failed": sum(r.failed for r in rows),
        "service_level": metrics.rate(sum(r.answered_within for r in rows), offered),
        "abandonment_rate": metrics.rate(abandoned, offered),
        "asa_seconds": metrics.asa(waited, handled),
    }
