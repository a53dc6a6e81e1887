"""Dashboard users: create, change, find, and the sign-in record; every change audit-logged."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.errors import AccountError, shown
from store.accounts import ROLES, audit
from store.agents import Agent
from store.base import utcnow
from store.users import LOCALES, MIN_PASSWORD, User, new_nonce

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
RING_TO = re.compile(r"\+[1-9][0-9]{6,14}|client:[A-Za-z0-9_.-]{1,64}")
"""Where "call back" rings a supervisor: a phone number in E.164 form, or a Twilio Client
identity (a browser or app softphone registered under that name) as ``client:<identity>``."""
NAME_MAX = User.__table__.c.name.type.length


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError("bad_role", choices=", ".join(ROLES))


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise AccountError("bad_locale", choices=", ".join(LOCALES))


def _set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_short", n=MIN_PASSWORD)
    user.set_password(password)


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _check_agent(session: Session, user: User | None, role: str, agent_id: str | None) -> str | None:
    """An ``agent`` user is linked to exactly one agent, nobody else's; other roles to none."""
    agent_id = (agent_id or "").strip() or None
    if (role == "agent") != (agent_id is not None):
        raise AccountError("agent_required")
    if agent_id is None:
        return None
    if session.get(Agent, agent_id) is None:
        raise AccountError("no_agent", value=shown(agent_id))
    other = session.scalar(select(User).where(User.agent_id == agent_id))
    if other is not None and other is not user:
        raise AccountError("agent_taken", value=agent_id, email=other.email)
    return agent_id


def create_user(session: Session, email: str, password: str | None, role: str, *, actor: str,
                name: str = "", locale: str = "en", agent_id: str | None = None) -> User:
    """A new user; without a password (``None``) nobody can log in as them until an
    invitation (``accounts.invitations``) sets one."""
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError("bad_email", value=shown(email))
    check_role(role)
    _check_locale(locale)
    if len(name.strip()) > NAME_MAX:
        raise AccountError("user_name_long", n=NAME_MAX)
    if find_user(session, email) is not None:
        raise AccountError("user_exists", value=email)
    agent_id = _check_agent(session, None, role, agent_id)
    user = User(email=email, name=name.strip(), role=role, locale=locale, password_hash="", agent_id=agent_id)
    if password is not None:
        _set_password(user, password)
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", email, role=role, **({"agent_id": agent_id} if agent_id else {}))
    return user


def check_ring_to(value: str) -> str:
    """``value`` stripped if it is an E.164 number, ``client:<identity>`` or empty (ring nowhere)."""
    value = value.strip()
    if value and not RING_TO.fullmatch(value):
        raise AccountError("bad_ring_to", value=shown(value))
    return value


def update_user(session: Session, user: User, *, actor: str, role: str | None = None,
                active: bool | None = None, locale: str | None = None, password: str | None = None,
                ring_to: str | None = None, agent_id: str | None = None) -> User:
    """Change a user; deactivating, a role change or a new password ends their open sessions.
    The profile page (a user's own ``ring_to`` and language) and /admin/users both come here."""
    changes: dict = {}
    if ring_to is not None and (ring_to := check_ring_to(ring_to)) != user.ring_to:
        changes["ring_to"], user.ring_to = ring_to, ring_to
    if role is not None and role != user.role:
        check_role(role)
        changes["role"], user.role = role, role
    if role is not None or agent_id is not None:
        linked = _check_agent(session, user, user.role, agent_id if agent_id is not None else user.agent_id)
        if linked != user.agent_id:
            changes["agent_id"], user.agent_id = linked, linked
    if active is not None and active != user.active:
        changes["active"], user.active = active, active
    if locale is not None and locale != user.locale:
        _check_locale(locale)
        changes["locale"], user.locale = locale, locale
    if password:
        _set_password(user, password)
        changes["password"] = "changed"
    if {"role", "active", "agent_id"} & changes.keys():
        user.session_nonce = new_nonce()
    if changes:
        audit(session, actor, "user.update", user.email, **changes)
    return user


def record_login(session: Session, user: User) -> None:
    user.last_login_at = utcnow()
    audit(session, user.email, "user.login", user.email)


def record_logout(session: Session, user_id: int) -> None:
    """Log out ends the session on the server: a new nonce refuses the old cookie (a copy of it
    too), and every other session the user has open, which is what "log out" should mean."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_nonce = new_nonce()
        audit(session, user.email, "user.logout", user.email)
