"""Supervisor review of a flag, or of several at once: confirm or dismiss, with a comment, always audited.

The one way a flag is reviewed, from the dashboard's queue and from the ``flags review`` command."""
from __future__ import annotations

from dataclasses import dataclass

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


def check_review(decision: str, actor: str, comment: str) -> None:
    """What every review needs, checked before any flag is touched."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}", "bad_decision")
    actor, comment = (actor or "").strip(), (comment or "").strip()
    if not actor:
        raise ReviewError("actor is required", "actor_required")
    if not comment:
        raise ReviewError("a comment is required: say why the flag is confirmed or dismissed", "comment_required")
    if len(comment) > COMMENT_MAX:
        raise ReviewError(f"a comment can have at most {COMMENT_MAX} characters", "comment_long", n=COMMENT_MAX)


def review_flag(session: Session, flag_id: int, actor: str, decision: str, comment: str) -> Flag:
    """Set the flag's state; a later review may overturn an earlier one (both stay in the audit log)."""
    check_review(decision, actor, comment)
    actor, comment = actor.strip(), comment.strip()
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


@dataclass(frozen=True)
class BulkReview:
    reviewed: list[Flag]
    refused: dict[int, str]     # flag id -> why it was not reviewed


def review_flags(session: Session, flag_ids, actor: str, decision: str, comment: str) -> BulkReview:
    """Several flags, one decision and one comment: each through ``review_flag`` (so each is
    audit-logged on its own). A flag that cannot be reviewed is reported and the rest go ahead;
    a bad decision, actor or comment refuses the whole batch before anything changes."""
    ids = list(dict.fromkeys(flag_ids))
    if not ids:
        raise ReviewError("choose at least one flag", "no_flags")
    check_review(decision, actor, comment)
    reviewed, refused = [], {}
    for flag_id in ids:
        try:
            reviewed.append(review_flag(session, flag_id, actor, decision, comment))
        except ReviewError as exc:   # raised before the flag is touched
            refused[flag_id] = str(exc)
    return BulkReview(reviewed, refused)
