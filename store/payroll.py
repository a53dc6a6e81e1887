"""Pay periods, cached scorecards and export files: what HR paid from, frozen at lock time.

A locked period keeps the exact rows it exported (``snapshot``) and the rows last paid
(``settled``): later answers or flag reviews that change a locked period are paid as
adjustments in the next open period (a diff against ``settled``), never rewritten in place.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

PERIOD_STATES = ("open", "locked")
EXPORT_FORMATS = ("csv", "xlsx", "json")


class PayPeriod(Base):
    __tablename__ = "pay_periods"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)  # "2026-11" or "2026-W47"
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(8), default="open")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    snapshot: Mapped[dict | None] = mapped_column(JSON)   # {"rows": [...], "adjustments": [...]}
    checksum: Mapped[str | None] = mapped_column(String(64))  # sha256 of the canonical snapshot JSON
    settled: Mapped[list | None] = mapped_column(JSON)    # score rows as last paid (snapshot + adjustments)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # changes after this are unpaid
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"key": self.key, "starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat(),
                "state": self.state, "locked_at": self.locked_at.isoformat() if self.locked_at else None,
                "locked_by": self.locked_by, "checksum": self.checksum}


class ScorecardCache(Base):
    """Scorecards computed by the recompute job, for pages that must not compute on request."""

    __tablename__ = "scorecard_cache"
    __table_args__ = (UniqueConstraint("period_key", "team"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_key: Mapped[str] = mapped_column(ForeignKey("pay_periods.key"), index=True)
    team: Mapped[str] = mapped_column(String(64), default="")  # "" = every team
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[list] = mapped_column(JSON, default=list)


class ExportFile(Base):
    """A built export, kept so the download is the exact file whose checksum was audit-logged."""

    __tablename__ = "export_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_key: Mapped[str] = mapped_column(ForeignKey("pay_periods.key"), index=True)
    fmt: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(120))
    checksum: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    job_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # a retried job reuses its file
