"""Dashboard users: people who log in (supervisors, HR, admins, agents), as opposed to API tokens.

``session_nonce`` is part of the login cookie's identity: changing it (password change,
deactivation, a role change, logging out) invalidates every session the user has open.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from store.accounts import ROLES
from store.base import Base, UTCDateTime, utcnow

USER_ROLES = ROLES
LOCALES = ("en", "ru")
MIN_PASSWORD = 10


def new_nonce() -> str:
    return secrets.token_hex(8)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ring_to: Mapped[str] = mapped_column(String(80), default="", server_default="")
    """Where "call back" rings this supervisor: +E.164 or ``client:<identity>``; empty: nowhere."""
    team: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """The agents' team this user supervises: its call-back tasks are shared round-robin among
    the team's supervisors; empty: none."""
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"), unique=True)
    """The agent an ``agent`` user is: the only agent whose card, calls and findings they see."""

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
        self.password_hash = generate_password_hash(password)
        self.session_nonce = new_nonce()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class Invitation(Base):
    """A one-time link that lets a new user set their password: only the token's hash is kept,
    it expires, and it is spent by its first use."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
