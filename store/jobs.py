"""The job outbox: background work is written here in the same transaction as its cause.

A relay hands pending jobs to RQ when Redis is reachable; without Redis (the embedded
default) the worker runs them straight from this table. Either way nothing is lost
while Redis is down, and progress is visible to the dashboard.

A job function is ``fn(ctx, **kwargs)``, idempotent, registered under a stable name with
``@job("name")``: the name is what a row stores, so a function can move between modules
while rows written before the move still run. The runner looks names up only here.

``@job(name, lane=…)`` puts a job in one of ``LANES`` (RQ queues a worker takes in that order),
so a slow outside endpoint never holds up what a caller waits for; ``coalesce=True`` makes a
submit that finds the same job with the same arguments still waiting return that one instead.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import JSON, Float, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, utcnow

JOB_STATES = ("pending", "queued", "running", "done", "failed")
WAITING = ("pending", "queued")
LANES = ("urgent", "default", "slow")
"""urgent: a person waits for it (follow-up sends, call-backs); slow: outside endpoints that
may take their time (a CRM's webhook, Twilio deletions); default: everything else."""


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    func: Mapped[str] = mapped_column(String(160))
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    note: Mapped[str] = mapped_column(String(240), default="")
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "func": self.func, "state": self.state, "attempts": self.attempts,
            "progress": self.progress, "note": self.note, "result": self.result, "error": self.error,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


_REGISTRY: dict[str, Callable] = {}
_LANE: dict[str, str] = {}
_COALESCE: set[str] = set()


class UnknownJob(LookupError):
    """A stored job names no registered function (a typo, or its module is not loaded)."""


def job(name: str, lane: str = "default", coalesce: bool = False):
    """Register the decorated function as the job ``name`` (stored in ``Job.func``)."""
    if lane not in LANES:
        raise ValueError(f"lane must be one of {LANES}, got {lane!r}")

    def register(fn: Callable) -> Callable:
        if _REGISTRY.get(name, fn) is not fn:
            raise ValueError(f"job name {name!r} is already taken by {_REGISTRY[name].__qualname__}")
        _REGISTRY[name], _LANE[name] = fn, lane
        if coalesce:
            _COALESCE.add(name)
        fn.job_name = getattr(fn, "job_name", name)
        return fn
    return register


def job_function(name: str) -> Callable:
    """The function registered as ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownJob(f"no job function is registered as {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def lane_names(lane: str) -> list[str]:
    """The job names registered in ``lane``."""
    return sorted(name for name, its_lane in _LANE.items() if its_lane == lane)


def job_lane(name: str) -> str:
    """The lane a stored job name runs in (``default`` for a name no longer registered)."""
    return _LANE.get(name, "default")


def submit(session: Session, fn: Callable, created_by: str = "system", max_attempts: int = 3, **kwargs) -> Job:
    """Write a job row for ``fn`` (a function registered with ``@job``) in the caller's transaction;
    for a coalescing job, the same job already waiting with the same arguments is returned instead."""
    name = getattr(fn, "job_name", None)
    if name is None or _REGISTRY.get(name) is not fn:
        raise ValueError(f"{getattr(fn, '__qualname__', fn)!r} is not a registered job; decorate it with @job(name)")
    if name in _COALESCE:
        for waiting in session.scalars(select(Job).where(Job.func == name, Job.state.in_(WAITING)).order_by(Job.id)):
            if waiting.kwargs == kwargs:
                return waiting
    row = Job(func=name, kwargs=kwargs, created_by=created_by, max_attempts=max_attempts)
    session.add(row)
    session.flush()
    return row
