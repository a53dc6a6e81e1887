"""Invitations: a one-time link by which a new user (an agent, typically) sets their own password.

Only the token's hash is stored (like API tokens); a link expires, and its first use spends
it. Creating and using one are audit-logged; a failed use is too (the trail of a guess)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accounts.users import _set_password
from store.accounts import audit, hash_token
from store.base import utcnow
from store.users import Invitation, User, new_nonce


def invite(session: Session, user: User, *, actor: str, hours: int) -> str:
    """A fresh link for ``user`` (earlier unused ones are spent); returns the plain token, once."""
    now = utcnow()
    session.execute(update(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
                    .values(used_at=now))
    plain = secrets.token_urlsafe(32)
    row = Invitation(user_id=user.id, token_hash=hash_token(plain), created_by=actor[:120], created_at=now,
                     expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    audit(session, actor, "user.invite", user.email, invitation=row.id, expires_at=row.expires_at.isoformat())
    return plain


def pending(session: Session, plain: str) -> tuple[Invitation, User] | None:
    """The invitation this token opens, if it is unused, unexpired and its user active."""
    row = session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(plain or "")))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return (row, user) if user is not None and user.active else None


def accept(session: Session, plain: str, password: str, *, address: str = "") -> User | None:
    """Set the password through the link and spend it. An unusable link gives None, logged as
    a failed login (in this transaction: the caller commits it); a too-short password raises
    ``AccountError``."""
    found = pending(session, plain)
    if found is None:
        audit(session, "anonymous", "user.login_failed", "", address=address, reason="invitation")
        return None
    row, user = found
    _set_password(user, password)      # refused before the link is spent: the user may try again
    row.used_at = utcnow()
    user.session_nonce = new_nonce()
    audit(session, user.email, "user.invite_accepted", user.email, invitation=row.id, address=address)
    return user
