"""The review queue: agent-level findings (agent × kind × period) a supervisor can finish.

Leg verdicts (one truncated or cap-cut call) are evidence behind a finding, not items to
review one by one: a month of calls holds thousands of them and nobody gets through that,
so nothing would ever be confirmed. The dashboard's queue and ``flask flags list`` both
read ``list_findings``, so they list the same thing.

A finding the current rules no longer raise leaves the queue unless it was reviewed (then
it stays for the record, not current); stored flags of retired kinds are leg flags and
never show here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from scoring.outcomes.flags import AGENT_KINDS, months
from store.agents import Agent
from store.flags import Flag

DEFAULT_STATE = "open"
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class QueueFilter:
    """What to list. ``state`` None = every state; ``kind`` a leg kind lists those leg
    verdicts instead of findings; ``period`` is a finding's month, YYYY-MM; ``start``/``end``
    keep what overlaps [start, end)."""

    state: str | None = DEFAULT_STATE
    kind: str | None = None
    agent_id: str | None = None
    team: str | None = None
    period: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Page:
    items: list[Flag]
    total: int          # everything the filter matches
    offset: int
    limit: int

    @property
    def first(self) -> int:
        return self.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)


def period_range(period: str) -> tuple[datetime, datetime]:
    """A finding period's [start, end): the calendar month (UTC) ``YYYY-MM``."""
    found = PERIOD.match(period or "")
    if not found:
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    start = datetime(int(found[1]), int(found[2]), 1, tzinfo=timezone.utc)
    return months(start, start.replace(day=2))[0]


def _query(f: QueueFilter):
    query = select(Flag)
    if f.kind:
        query = query.where(Flag.kind == f.kind)
    if not f.kind or f.kind in AGENT_KINDS:
        query = query.where(Flag.leg_id.is_(None), Flag.kind.in_(AGENT_KINDS),
                            or_(Flag.current.is_(True), Flag.state != "open"))
    if f.state:
        query = query.where(Flag.state == f.state)
    if f.agent_id:
        query = query.where(Flag.agent_id == f.agent_id)
    if f.team:
        query = query.where(Flag.agent_id.in_(select(Agent.id).where(Agent.team == f.team)))
    if f.period:
        start, end = period_range(f.period)
        query = query.where(Flag.occurred_at >= start, Flag.occurred_at < end)
    if f.end is not None:
        query = query.where(Flag.occurred_at < f.end)
    if f.start is not None:   # a finding's period overlaps [start, end); a leg verdict's call started in it
        query = query.where(or_(Flag.period_end > f.start, and_(Flag.period_end.is_(None), Flag.occurred_at >= f.start)))
    return query


def list_findings(session: Session, filters: QueueFilter = QueueFilter(), *, offset: int = 0,
                  limit: int | None = 50) -> Page:
    """One page of what the filter matches, newest period first, and how many there are in all."""
    if offset < 0 or (limit is not None and limit < 1):
        raise ValueError("offset must be >= 0 and limit >= 1")
    query = _query(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    ordered = query.order_by(Flag.occurred_at.desc(), Flag.agent_id, Flag.kind, Flag.id.desc()).offset(offset)
    items = list(session.scalars(ordered if limit is None else ordered.limit(limit)))
    return Page(items, total, offset, limit or max(total, 1))


def finding_periods(session: Session) -> list[str]:
    """The months that have findings, newest first (the queue's period filter)."""
    starts = session.scalars(select(Flag.occurred_at).where(Flag.leg_id.is_(None), Flag.kind.in_(AGENT_KINDS))
                             .distinct().order_by(Flag.occurred_at.desc()))
    return list(dict.fromkeys(f"{s.astimezone(timezone.utc):%Y-%m}" for s in starts))
