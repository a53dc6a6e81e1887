"""API tokens for machine clients (payroll systems, agent consoles); stored only as hashes."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

ROLES = ("supervisor", "hr", "admin", "agent")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"))
    """The one agent an ``agent`` token speaks for (``/api/me/…``); empty for every other role."""
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """Who did what, when: exports, locks, flag reviews, user and token changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(160), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def audit(session, actor: str, action: str, target: str = "", *, at: datetime | None = None, **detail) -> AuditLog:
    """Record who did what in the caller's transaction (so the record and the change commit together)."""
    entry = AuditLog(actor=actor[:120], action=action, target=target[:160], detail=detail, at=at or utcnow())
    session.add(entry)
    return entry
