"""Scorecard counts per UTC day (``scoring.scorecards.rollup`` fills them; ``scoring.scorecards.tally.COUNTS``)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, UTCDateTime, utcnow


class ScorecardDay(Base):
    """A rolled-up day: its cells were counted with the rules named by ``key``."""

    __tablename__ = "scorecard_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    reach_until: Mapped[date] = mapped_column(Date)
    """The last day whose calls can still change this one's counts (its repeat-call window)."""
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScorecardCell(Base):
    """One agent's counts in one mix cell on one day."""

    __tablename__ = "scorecard_cells"
    __table_args__ = (UniqueConstraint("day", "agent_id", "queue", "language", "reason", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(ForeignKey("scorecard_days.day", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8), server_default="")
    handled: Mapped[int] = mapped_column(Integer)
    offered: Mapped[int] = mapped_column(Integer)
    talk_seconds: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    adequate_n: Mapped[int] = mapped_column(Integer)
    adequate_yes: Mapped[int] = mapped_column(Integer)
    csat_n: Mapped[int] = mapped_column(Integer)
    csat_top: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    rating_sq: Mapped[int] = mapped_column(Integer)
    fcr_n: Mapped[int] = mapped_column(Integer)
    fcr_repeats: Mapped[int] = mapped_column(Integer)
    legs: Mapped[int] = mapped_column(Integer, server_default="0")
    incall_completed: Mapped[int] = mapped_column(Integer, server_default="0")
    followups_sent: Mapped[int] = mapped_column(Integer, server_default="0")
    followups_answered: Mapped[int] = mapped_column(Integer, server_default="0")


def forget_days_touched_by(session: Session, *starts: datetime | None) -> None:
    """Drop the rollup of every day whose counts a call started at one of ``starts`` is part
    of: its own day, and the days before it whose repeat-call window reaches it. The next
    refresh counts them again from the rows."""
    for at in {s.astimezone(timezone.utc).date() for s in starts if s is not None}:
        session.execute(delete(ScorecardDay).where(ScorecardDay.day <= at, ScorecardDay.reach_until >= at))


def forget_days_of(session: Session, *starts: datetime | None) -> None:
    """Drop the rollup of the day of each call started at one of ``starts``: what changes only
    that call's own counts (a survey answer, a follow-up sent), not another call's first-contact
    resolution."""
    days = {s.astimezone(timezone.utc).date() for s in starts if s is not None}
    if days:
        session.execute(delete(ScorecardDay).where(ScorecardDay.day.in_(days)))
