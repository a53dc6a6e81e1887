"""Disputes: an agent questions a flag on their own work; a supervisor accepts or rejects it.

The one way a dispute is opened or decided, from the agent's card, the findings queue, the
JSON API and the CLI. Accepting dismisses the flag through the flag review
(``scoring.outcomes.review``), so scoring stops counting it as every dismissed flag, and
submits the period's scorecard recompute (``scoring.payroll.actions.start_recompute``);
a locked period pays the change as an adjustment in the next open one, as for any review.
Every step is audit-logged in the transaction of the change.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.outcomes.review import COMMENT_MAX, ReviewError, review_flag
from scoring.payroll.actions import start_recompute
from scoring.payroll.periods import period_key_for
from store.accounts import audit
from store.base import utcnow
from store.disputes import Dispute
from store.flags import Flag
from store.payroll import PayPeriod

REASON_MAX = 2000
DECISIONS = {"accept": "accepted", "reject": "rejected"}


class DisputeError(ValueError):
    """A dispute or decision that cannot be made: ``key`` and ``params`` for translation, ``str()`` in English."""

    def __init__(self, message: str, key: str, /, **params):
        super().__init__(message)
        self.key, self.params = key, params


def window_ends(flag: Flag, window_days: int) -> datetime:
    """Until when the flag can be disputed: ``window_days`` after it was raised."""
    return flag.created_at + timedelta(days=window_days)


def disputable(session: Session, flag: Flag, window_days: int, now: datetime | None = None) -> str | None:
    """None if the flag may be disputed now, else the refusal's key (the card hides the button)."""
    now = now or utcnow()
    if now > window_ends(flag, window_days):
        return "dispute_window"
    period = session.get(PayPeriod, period_key_for(flag.occurred_at))
    if period is not None and period.state == "locked":
        return "dispute_locked"
    if session.scalar(select(Dispute.id).where(Dispute.flag_id == flag.id, Dispute.state == "open")):
        return "dispute_exists"
    return None


def open_dispute(session: Session, agent_id: str, flag_id: int, reason: str, *, actor: str, window_days: int,
                 now: datetime | None = None) -> Dispute:
    """The agent ``agent_id`` disputes their flag ``flag_id``; another agent's flag is as unknown as a missing one."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise DisputeError(f"a reason of 1 to {REASON_MAX} characters is required", "dispute_reason", n=REASON_MAX)
    flag = session.get(Flag, flag_id, with_for_update=True)
    if flag is None or flag.agent_id != agent_id:
        raise DisputeError(f"agent {agent_id} has no flag {flag_id}", "dispute_not_yours", id=flag_id)
    why = disputable(session, flag, window_days, now)
    if why == "dispute_window":
        raise DisputeError(f"flags can be disputed for {window_days} days; flag {flag_id} is older", why,
                           days=window_days)
    if why == "dispute_locked":
        key = period_key_for(flag.occurred_at)
        raise DisputeError(f"pay period {key} is locked", why, key=key)
    if why == "dispute_exists":
        existing = session.scalar(select(Dispute.id).where(Dispute.flag_id == flag.id, Dispute.state == "open"))
        raise DisputeError(f"flag {flag_id} is already disputed (dispute {existing})", why, id=existing)
    dispute = Dispute(flag_id=flag.id, agent_id=agent_id, occurred_at=flag.occurred_at, reason=reason,
                      state="open", created_by=actor[:120], created_at=now or utcnow())
    session.add(dispute)
    session.flush()
    audit(session, actor, "dispute.open", f"dispute:{dispute.id}", flag=flag.id, kind=flag.kind, agent_id=agent_id,
          call_sid=flag.call_sid, flag_state=flag.state, reason=reason)
    return dispute


def decide_dispute(session: Session, dispute_id: int, *, actor: str, decision: str, comment: str) -> Dispute:
    """Accept (the flag dismissed, the period's scorecards recomputed) or reject, with a comment the agent reads."""
    if decision not in DECISIONS:
        raise DisputeError("decision must be accept or reject", "bad_dispute_decision")
    comment = (comment or "").strip()
    if not comment:
        raise ReviewError("a comment is required: say why the dispute is accepted or rejected", "comment_required")
    if len(comment) > COMMENT_MAX:
        raise ReviewError(f"a comment can have at most {COMMENT_MAX} characters", "comment_long", n=COMMENT_MAX)
    dispute = session.get(Dispute, dispute_id, with_for_update=True)
    if dispute is None:
        raise DisputeError(f"no dispute {dispute_id}", "no_dispute", id=dispute_id)
    if dispute.state != "open":
        raise DisputeError(f"dispute {dispute_id} is {dispute.state} already", "dispute_decided", id=dispute_id)
    dispute.state, dispute.decided_by, dispute.decided_at, dispute.comment = \
        DECISIONS[decision], actor[:120], utcnow(), comment
    detail = {}
    if decision == "accept":
        flag = review_flag(session, dispute.flag_id, actor, "dismiss", comment)
        detail["job"] = start_recompute(session, period_key_for(flag.occurred_at), actor).id
    audit(session, actor, f"dispute.{decision}", f"dispute:{dispute.id}", flag=dispute.flag_id,
          agent_id=dispute.agent_id, comment=comment, **detail)
    session.flush()
    return dispute


def agent_disputes(session: Session, agent_id: str) -> list[Dispute]:
    """The agent's own disputes, newest first (their answers are on the card)."""
    return list(session.scalars(select(Dispute).where(Dispute.agent_id == agent_id)
                                .order_by(Dispute.created_at.desc(), Dispute.id.desc())))


def open_disputes(session: Session, start: datetime | None = None, end: datetime | None = None) -> list[Dispute]:
    """Disputes waiting for a supervisor (of flags in [start, end) if given), oldest first."""
    q = select(Dispute).where(Dispute.state == "open")
    if start is not None:
        q = q.where(Dispute.occurred_at >= start, Dispute.occurred_at < end)
    return list(session.scalars(q.order_by(Dispute.created_at, Dispute.id)))
