"""Supervisor review of a flag: confirm or dismiss, with a comment, always audited.

The one way a flag is reviewed, from the dashboard's queue and from the ``flags review`` command."""
from __future__ import annotations

from sqlalchemy.orm import Session

from store.accounts import audit
from store.base import utcnow
from store.flags import Flag

DECISIONS = {"confirm": "confirmed", "dismiss": "dismissed"}
COMMENT_MAX = 2000


class ReviewError(ValueError):
    """A review that cannot be applied: ``key`` and ``params`` name why (for translation),
    ``str()`` says it in English."""

    def __init__(self, message: str, key: str, /, **params):
        super().__init__(message)
        self.key, self.params = key, params


def review_flag(session: Session, flag_id: int, actor: str, decision: str, comment: str) -> Flag:
    """Set the flag's state; a later review may overturn an earlier one (both stay in the audit log)."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}", "bad_decision")
    actor, comment = (actor or "").strip(), (comment or "").strip()
    if not actor:
        raise ReviewError("actor is required", "actor_required")
    if not comment:
        raise ReviewError("a comment is required: say why the flag is confirmed or dismissed", "comment_required")
    if len(comment) > COMMENT_MAX:
        raise ReviewError(f"a comment can have at most {COMMENT_MAX} characters", "comment_long", n=COMMENT_MAX)
    flag = session.get(Flag, flag_id, with_for_update=True)
    if flag is None:
        raise ReviewError(f"no flag {flag_id}", "no_flag", id=flag_id)
    previous = flag.state
    flag.state, flag.reviewed_by, flag.reviewed_at, flag.review_comment = DECISIONS[decision], actor[:120], utcnow(), comment
    audit(session, actor, f"flag.{decision}", f"flag:{flag.id}", kind=flag.kind, agent_id=flag.agent_id,
          leg_id=flag.leg_id, call_sid=flag.call_sid, previous_state=previous, state=flag.state, comment=comment,
          rule_version=flag.rule_version)
    session.flush()
    return flag
