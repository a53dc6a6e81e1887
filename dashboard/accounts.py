"""Managing dashboard users and API tokens (the CLI and the admin pages share these rules).

Every change is written to the audit log by the same transaction that makes it.
"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.accounts import ROLES, ApiToken, AuditLog, hash_token
from store.base import utcnow
from store.users import LOCALES, User, new_nonce

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class AccountError(ValueError):
    """Input that cannot make a valid user or token; the message says what to fix."""


def audit(session: Session, actor: str, action: str, target: str = "", **detail) -> None:
    session.add(AuditLog(actor=actor, action=action, target=target[:160], detail=detail))


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, email: str, password: str, role: str, *, actor: str,
                name: str = "", locale: str = "en") -> User:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if locale not in LOCALES:
        raise AccountError(f"locale must be one of {', '.join(LOCALES)}")
    if find_user(session, email) is not None:
        raise AccountError(f"a user {email} already exists")
    user = User(email=email, name=name.strip()[:120], role=role, locale=locale, password_hash="")
    try:
        user.set_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", email, role=role)
    return user


def update_user(session: Session, user: User, *, actor: str, role: str | None = None,
                active: bool | None = None, locale: str | None = None, password: str | None = None) -> User:
    """Change a user; deactivating, a role change or a new password ends their open sessions."""
    changes: dict = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        changes["role"], user.role = role, role
    if active is not None and active != user.active:
        changes["active"], user.active = active, active
    if locale is not None and locale != user.locale:
        if locale not in LOCALES:
            raise AccountError(f"locale must be one of {', '.join(LOCALES)}")
        changes["locale"], user.locale = locale, locale
    if password:
        try:
            user.set_password(password)
        except ValueError as exc:
            raise AccountError(str(exc)) from exc
        changes["password"] = "changed"
    if {"role", "active"} & changes.keys():
        user.session_nonce = new_nonce()
    if changes:
        audit(session, actor, "user.update", user.email, **changes)
    return user


def create_token(session: Session, name: str, role: str, *, actor: str) -> tuple[ApiToken, str]:
    """A new API token; the plain value is returned once and only its hash is stored."""
    if not name.strip() or len(name) > 120:
        raise AccountError("a token needs a name of 1-120 characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    plain = "ac_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip(), role=role, token_hash=hash_token(plain))
    session.add(token)
    session.flush()
    audit(session, actor, "token.create", f"token:{token.id}", name=token.name, role=role)
    return token, plain


def revoke_token(session: Session, token: ApiToken, *, actor: str) -> None:
    if not token.revoked:
        token.revoked = True
        audit(session, actor, "token.revoke", f"token:{token.id}", name=token.name)


def record_login(session: Session, user: User) -> None:
    user.last_login_at = utcnow()
    audit(session, user.email, "user.login", user.email)
