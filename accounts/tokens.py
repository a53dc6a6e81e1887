"""API tokens for the JSON APIs: created (the plain value shown once, only its hash stored),
listed and revoked; every change audit-logged."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.errors import AccountError
from accounts.users import check_role
from store.accounts import ApiToken, audit, hash_token

TOKEN_NAME_MAX = ApiToken.__table__.c.name.type.length


def create_token(session: Session, name: str, role: str, *, actor: str) -> tuple[ApiToken, str]:
    """A new API token; the plain value is returned once and only its hash is stored."""
    if not name.strip() or len(name.strip()) > TOKEN_NAME_MAX:
        raise AccountError("token_name", n=TOKEN_NAME_MAX)
    check_role(role)
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


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
