"""Managing dashboard users and API tokens (the CLI and the admin pages share these rules).

Every change is written to the audit log by the same transaction that makes it.
"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.i18n import InputError, N_, shown
from store.accounts import ROLES, ApiToken, AuditLog, hash_token
from store.base import utcnow
from store.users import LOCALES, MIN_PASSWORD, User, new_nonce

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
NAME_MAX = User.__table__.c.name.type.length
TOKEN_NAME_MAX = ApiToken.__table__.c.name.type.length


class AccountError(InputError):
    """Input that cannot make a valid user or token; the message says what to fix."""


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(N_("The role must be one of %(choices)s."), choices=", ".join(ROLES))


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise AccountError(N_("The language must be one of %(choices)s."), choices=", ".join(LOCALES))


def _set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(N_("The password must have at least %(n)s characters."), n=MIN_PASSWORD)
    user.set_password(password)


def audit(session: Session, actor: str, action: str, target: str = "", **detail) -> None:
    session.add(AuditLog(actor=actor, action=action, target=target[:160], detail=detail))


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, email: str, password: str, role: str, *, actor: str,
                name: str = "", locale: str = "en") -> User:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError(N_("“%(value)s” is not an e-mail address."), value=shown(email))
    _check_role(role)
    _check_locale(locale)
    if len(name.strip()) > NAME_MAX:
        raise AccountError(N_("A name can have at most %(n)s characters."), n=NAME_MAX)
    if find_user(session, email) is not None:
        raise AccountError(N_("A user %(value)s already exists."), value=email)
    user = User(email=email, name=name.strip(), role=role, locale=locale, password_hash="")
    _set_password(user, password)
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", email, role=role)
    return user


def update_user(session: Session, user: User, *, actor: str, role: str | None = None,
                active: bool | None = None, locale: str | None = None, password: str | None = None) -> User:
    """Change a user; deactivating, a role change or a new password ends their open sessions."""
    changes: dict = {}
    if role is not None and role != user.role:
        _check_role(role)
        changes["role"], user.role = role, role
    if active is not None and active != user.active:
        changes["active"], user.active = active, active
    if locale is not None and locale != user.locale:
        _check_locale(locale)
        changes["locale"], user.locale = locale, locale
    if password:
        _set_password(user, password)
        changes["password"] = "changed"
    if {"role", "active"} & changes.keys():
        user.session_nonce = new_nonce()
    if changes:
        audit(session, actor, "user.update", user.email, **changes)
    return user


def create_token(session: Session, name: str, role: str, *, actor: str) -> tuple[ApiToken, str]:
    """A new API token; the plain value is returned once and only its hash is stored."""
    if not name.strip() or len(name.strip()) > TOKEN_NAME_MAX:
        raise AccountError(N_("A token needs a name of 1 to %(n)s characters."), n=TOKEN_NAME_MAX)
    _check_role(role)
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
