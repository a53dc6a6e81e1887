"""API tokens for the JSON APIs: created (the plain value shown once, only its hash stored),
listed and revoked; every change audit-logged."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.errors import AccountError, shown
from accounts.users import check_role
from store.accounts import ApiToken, audit, hash_token
from store.agents import Agent

TOKEN_NAME_MAX = ApiToken.__table__.c.name.type.length


def create_token(session: Session, name: str, role: str, *, actor: str,
                 agent_id: str | None = None) -> tuple[ApiToken, str]:
    """A new API token; the plain value is returned once and only its hash is stored. An
    ``agent`` token speaks for one agent (their own card, ``/api/me/…``) and needs it named."""
    if not name.strip() or len(name.strip()) > TOKEN_NAME_MAX:
        raise AccountError("token_name", n=TOKEN_NAME_MAX)
    check_role(role)
    agent_id = (agent_id or "").strip() or None
    if (role == "agent") != (agent_id is not None):
        raise AccountError("agent_required")
    if agent_id is not None and session.get(Agent, agent_id) is None:
        raise AccountError("no_agent", value=shown(agent_id))
    plain = "ac_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip(), role=role, token_hash=hash_token(plain), agent_id=agent_id)
    session.add(token)
    session.flush()
    audit(session, actor, "token.create", f"token:{token.id}", name=token.name, role=role,
          **({"agent_id": agent_id} if agent_id else {}))
    return token, plain


def revoke_token(session: Session, token: ApiToken, *, actor: str) -> None:
    if not token.revoked:
        token.revoked = True
        audit(session, actor, "token.revoke", f"token:{token.id}", name=token.name)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
