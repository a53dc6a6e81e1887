"""Recovery measured from the caller: one SMS question, "Is your question resolved now?".

A check is queued when a supervisor marks a call-back ``resolved`` (kind ``resolved``) and when
the team's day is full and the caller gets a polite follow-up instead of a call (kind
``capacity``: the question comes after an apology). One per task and kind; never to a withheld
or opted-out number. The worker claims queued checks and sends each by a job
(``aftercall.callbacks.check_job``); the caller's reply ("1"/"2", yes/no, да/нет) is read by the
SMS webhook before the survey follow-ups (``reply``). The recovery rate from those answers sits
beside the supervisors' own marks (``caller_recovery``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from store.base import upsert_ignore
from store.callbacks import CallbackTask, CallerCheck
from store.calls import Leg
from store.followups import OptOut

EXPIRY = timedelta(hours=48)
YES = frozenset({"1", "yes", "y", "да", "д"})
NO = frozenset({"2", "no", "n", "нет", "н"})


def _callable(number: str) -> bool:
    raw = (number or "").strip()
    digits = raw[1:] if raw.startswith("+") else raw
    return digits.isdigit() and 7 <= len(digits) <= 15


def queue_check(session: Session, task: CallbackTask, kind: str, now: datetime) -> None:
    """Queue the task's check of ``kind`` (once); a number we must not text is ``skipped``."""
    language = session.scalar(select(Leg.language).where(Leg.id == task.leg_id)) or "en"
    number = (task.caller_number or "").strip()
    state, reason = "queued", ""
    if not _callable(number):
        state, reason = "skipped", "withheld"
    elif session.get(OptOut, number) is not None:
        state, reason = "skipped", "opted-out"
    upsert_ignore(session, CallerCheck, {"task_id": task.id, "kind": kind, "to_number": number[:64],
                                         "language": language, "state": state, "reason": reason,
                                         "created_at": now})


def claim(session: Session, limit: int = 200) -> list[int]:
    """Queued checks, marked ``sending``: the caller submits one send job per id in the same
    transaction, so two sweeps never send one twice."""
    ids = list(session.scalars(select(CallerCheck.id).where(CallerCheck.state == "queued")
                               .order_by(CallerCheck.id).limit(limit)))
    return [cid for cid in ids if session.execute(update(CallerCheck).where(
        CallerCheck.id == cid, CallerCheck.state == "queued").values(state="sending")).rowcount]


def sent(session: Session, check_id: int, sid: str, now: datetime) -> None:
    session.execute(update(CallerCheck).where(CallerCheck.id == check_id, CallerCheck.state == "sending")
                    .values(state="sent", twilio_sid=sid, sent_at=now, expires_at=now + EXPIRY))


def failed(session: Session, check_id: int, why: str) -> None:
    session.execute(update(CallerCheck).where(CallerCheck.id == check_id, CallerCheck.state == "sending")
                    .values(state="failed", reason=why[:240]))


def parse(body: str) -> int | None:
    word = (body or "").strip().strip(".!").lower()
    return 1 if word in YES else 2 if word in NO else None


def reply(session: Session, number: str, body: str, now: datetime) -> tuple[CallerCheck, int | None] | None:
    """The number's open check and the answer read from ``body`` (None: not understood, asked
    again); stored on the check. None when the number has no open check (the survey follow-ups'
    turn)."""
    check = session.scalar(select(CallerCheck).where(
        CallerCheck.to_number == (number or "").strip(), CallerCheck.state == "sent", CallerCheck.expires_at > now)
        .order_by(CallerCheck.sent_at.desc(), CallerCheck.id.desc()).limit(1))
    if check is None:
        return None
    answer = parse(body)
    if answer is not None:
        check.answer, check.state, check.answered_at = answer, "answered", now
    return check, answer


def expire(session: Session, now: datetime) -> int:
    return session.execute(update(CallerCheck).where(CallerCheck.state == "sent", CallerCheck.expires_at <= now)
                           .values(state="expired")).rowcount


def caller_recovery(session: Session, start: datetime, end: datetime, by: str) -> dict[str, dict[str, tuple[int, int]]]:
    """Per team or agent: for each kind, ``(answered, yes)`` of the checks of tasks opened in
    ``[start, end)``: the callers' own word on whether the question is resolved now."""
    column = {"team": CallbackTask.team, "agent": CallbackTask.agent_id}[by]
    rows = session.execute(select(column, CallerCheck.kind, func.count(),
                                  func.sum(case((CallerCheck.answer == 1, 1), else_=0)))
                           .join(CallbackTask, CallbackTask.id == CallerCheck.task_id)
                           .where(CallerCheck.state == "answered", CallbackTask.opened_at >= start,
                                  CallbackTask.opened_at < end)
                           .group_by(column, CallerCheck.kind)).all()
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for key, kind, n, yes in rows:
        out.setdefault(key, {})[kind] = (n, int(yes or 0))
    return out
