"""Supervisor review of a flag: confirm or dismiss, with a comment, always audited."""
from __future__ import annotations

from sqlalchemy.orm import Session

from store.accounts import AuditLog
from store.base import utcnow
from store.flags import Flag

DECISIONS = {"confirm": "confirmed", "dismiss": "dismissed"}


class ReviewError(ValueError):
    """A review that cannot be applied; the message says why."""


def review_flag(session: Session, flag_id: int, actor: str, decision: str, comment: str) -> Flag:
    """Set the flag's state; a later review may overturn an earlier one (both stay in the audit log)."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}")
    actor, comment = (actor or "").strip(), (comment or "").strip()
    if not actor:
        raise ReviewError("actor is required")
    if not comment:
        raise ReviewError("a comment is required: say why the flag is confirmed or dismissed")
    flag = session.get(Flag, flag_id, with_for_update=True)
    if flag is None:
        raise ReviewError(f"no flag {flag_id}")
    previous = flag.state
    flag.state, flag.reviewed_by, flag.reviewed_at, flag.review_comment = DECISIONS[decision], actor[:120], utcnow(), comment
    session.add(AuditLog(actor=actor[:120], action=f"flag.{decision}", target=f"flag:{flag.id}", detail={
        "kind": flag.kind, "agent_id": flag.agent_id, "leg_id": flag.leg_id, "call_sid": flag.call_sid,
        "previous_state": previous, "state": flag.state, "comment": comment, "rule_version": flag.rule_version}))
    session.flush()
    return flag
