"""Agents: who can take calls from which queues, and whether they can right now."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

PRESENCES = ("available", "busy", "wrap-up", "offline")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Twilio Client identity
    name: Mapped[str] = mapped_column(String(120), default="")
    team: Mapped[str] = mapped_column(String(64), default="", index=True)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(32))
    employee_number: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """HR's number for the agent (optional): in every pay export, so payroll can match its rows."""
    presence: Mapped[str] = mapped_column(String(16), default="offline", index=True)
    presence_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Routing picks the longest-idle agent: the smallest available_since among the available.
    available_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wrapup_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "team": self.team,
            "skills": list(self.skills or []),
            "phone": self.phone,
            "employee_number": self.employee_number or "",
            "presence": self.presence,
            "presence_changed_at": self.presence_changed_at.isoformat() if self.presence_changed_at else None,
            "active": self.active,
        }
