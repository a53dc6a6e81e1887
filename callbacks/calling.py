"""Click-to-call: "call back" rings the supervisor, then connects the caller (issue 14).

The life of one attempt (``store.callbacks.CallAttempt``):

- ``call_back`` (the dashboard's button, ``POST /api/callbacks/<id>/call``): the task must
  still be to do, the supervisor must have a number or Client identity to ring
  (``users.ring_to``) and the caller a number to dial. The attempt is recorded ``queued``
  and claims the task (``active_task_id``, unique) in the same transaction as its ring
  job: a double click, a second supervisor or an API retry gets the attempt already under
  way, never a second call. It claims the supervisor's phone too (``active_ring_to``): one
  call-back at a time per phone.
- ``ring`` (the job): claims the attempt (``sending``, the REST request's start recorded)
  BEFORE ``Calls.create`` rings the supervisor, then records Twilio's CallSid
  (``ringing``). Twilio takes no idempotency key, so an attempt whose outcome is unknown
  (a timeout, a 5xx, a worker killed mid-request) is looked up at Twilio before any retry;
  only when Twilio has no such call is it placed again. 429/5xx/timeouts retry (the job's
  retries); a refusal (21211 invalid number…) or ``MAX_TRIES`` runs end it ``failed``, with
  Twilio's error kept for the worklist.
- the call's webhooks (``webhooks.callback_voice``): the supervisor answers
  (``supervisor_answered``: ``connecting``, the TwiML dials the caller from the centre's
  number), the caller's leg ends (``caller_outcome``, from the Dial action or the caller
  leg's status callback, whichever comes first: ``connected`` moves the task to
  ``called``; busy, no answer or failed to ``not-reached``), the supervisor's leg ends
  (``supervisor_status``: never answered → ``supervisor-missed``, the task unchanged).
  Callbacks come twice or out of order: a final state never changes again, durations come
  from Twilio's ``DialCallDuration`` and ``CallDuration``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks.errors import CallbackError
from callbacks.tasks import FINAL, NEXT, _supervisor, change_state, get_task
from store.accounts import audit
from store.base import dialect_insert, utcnow
from store.callbacks import ACTIVE_ATTEMPT, CallAttempt, CallbackTask
from store.jobs import submit
from store.users import User

log = logging.getLogger(__name__)

MAX_TRIES = 4
STALE_AFTER = timedelta(hours=4)
"""An attempt still active this long after its last change lost its reports (Twilio's Dial
``timeLimit`` default is 4 hours): the next "call back" ends it (``no-report``), so a lost
callback never holds a task or a phone for good."""
"""Runs of the ring job that may make (or look up) the REST request; the next one gives up."""
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable", "blocked"})
TWILIO_ACTOR = "twilio"


class DialError(Exception):
    """``Calls.create`` (or the lookup) did not ring; ``retryable``: try again later;
    ``ambiguous``: Twilio may have created the call anyway."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None,
                 retryable: bool = False, ambiguous: bool = False):
        super().__init__(message)
        self.code, self.status, self.retryable, self.ambiguous = code, status, retryable, ambiguous


class RetryLater(Exception):
    """Raised by ``ring`` after a retryable failure: the job runner runs it again later."""


class Dialer(Protocol):
    """What a call-back needs from Twilio's REST API (``outbound.twilio_rest`` implements it)."""

    def ring(self, *, to: str, url: str, status_callback: str) -> tuple[str, str]:
        """Create a Call to ``to`` (+E.164 or client:<identity>) from the centre's number;
        returns (CallSid, status). Raises ``DialError``."""

    def find_ring(self, *, to: str, since: datetime) -> list[tuple[str, str]]:
        """The outbound calls to ``to`` created at or after ``since``, newest first, as
        (CallSid, status)."""


@dataclass(frozen=True)
class Urls:
    """Where Twilio reaches the app for a call-back's call (absolute, as Twilio needs them)."""
    base: str

    def answer(self, attempt_id: int, lang: str) -> str:
        """The supervisor's language rides in the URL so that an apology during a database
        outage speaks it."""
        return f"{self.base}/callback/voice/answer?a={attempt_id}&lang={lang}"

    def status(self, attempt_id: int) -> str:
        return f"{self.base}/callback/voice/status?a={attempt_id}"


def dialable(number: str | None) -> bool:
    raw = (number or "").strip()
    digits = raw[1:] if raw.startswith("+") else raw
    return raw.lower() not in WITHHELD and digits.isdigit() and 7 <= len(digits) <= 15


# ---- starting ----------------------------------------------------------------------------

def call_back(session: Session, task_id, *, user_id, actor: str, ring_job: Callable,
              now: datetime | None = None) -> tuple[CallAttempt, bool]:
    """Start ringing ``user_id`` for task ``task_id``; returns (the attempt, whether this
    call started it). When the task already has an attempt under way, that one is returned
    and nothing new is rung. ``ring_job`` is the job (``@job``) that runs ``ring``: the
    composition root wires in the one with Twilio's REST client."""
    now = now or utcnow()
    task = get_task(session, task_id)
    if task.state in FINAL:
        raise CallbackError("task_final", id=task.id, state=task.state)
    for stale in session.scalars(select(CallAttempt).where(CallAttempt.active_task_id.is_not(None),
                                                           CallAttempt.updated_at < now - STALE_AFTER)):
        _end(session, stale, "failed", now, outcome="no-report")
    under_way = session.scalar(select(CallAttempt).where(CallAttempt.active_task_id == task.id))
    if under_way is not None:   # a double click, a retry, another supervisor: that call, not another
        return under_way, False
    user = _supervisor(session, user_id)
    if not user.ring_to:
        raise CallbackError("no_ring_to", value=user.email)
    if not dialable(task.caller_number):
        raise CallbackError("no_caller_number", id=task.id)
    _check_free(session, user.ring_to)
    table = CallAttempt.__table__
    attempt_id = session.execute(dialect_insert(session, table).values(
        task_id=task.id, active_task_id=task.id, active_ring_to=user.ring_to, user_id=user.id, ring_to=user.ring_to,
        state="queued", outcome="", tries=0, error="", created_at=now, updated_at=now,
    ).on_conflict_do_nothing().returning(table.c.id)).scalar()
    if attempt_id is None:   # started between the looks above and this insert
        under_way = session.scalar(select(CallAttempt).where(CallAttempt.active_task_id == task.id))
        if under_way is not None:
            return under_way, False
        _check_free(session, user.ring_to)
    attempt = session.get(CallAttempt, attempt_id)
    audit(session, actor, "callback.call", f"task:{task.id}", at=now, attempt=attempt.id, user=user.email,
          ring_to=user.ring_to)
    submit(session, ring_job, created_by=actor[:120], max_attempts=MAX_TRIES + 1, attempt_id=attempt.id)
    return attempt, True


def _check_free(session: Session, ring_to: str) -> None:
    busy = session.scalar(select(CallAttempt).where(CallAttempt.active_ring_to == ring_to))
    if busy is not None:
        raise CallbackError("ring_to_busy", value=ring_to, id=busy.task_id)


# ---- placing the call (the job) ------------------------------------------------------------

def ring(db, dialer: Dialer, urls: Urls, attempt_id: int, *, now: datetime | None = None) -> str:
    """Ring the supervisor for one attempt, at most once; returns ``rang``, ``found`` (an
    earlier try had created the call), ``failed`` or ``nothing`` (not this job's to act on);
    raises ``RetryLater`` after a retryable failure. Three short transactions: claim, REST
    request (none held), outcome."""
    now = now or utcnow()
    with db.session() as s:
        attempt = s.get(CallAttempt, attempt_id, with_for_update=True)
        if attempt is None or attempt.state not in ("queued", "sending"):
            return "nothing"
        task = s.get(CallbackTask, attempt.task_id)
        if task.state in FINAL:   # closed by hand while the job waited
            _end(s, attempt, "failed", now, outcome="task-closed")
            return "failed"
        attempt.tries += 1
        if attempt.tries > MAX_TRIES:
            _end(s, attempt, "failed", now, outcome="gave-up")
            log.warning("call-back attempt %s: gave up after %s tries", attempt_id, MAX_TRIES)
            return "failed"
        unsure_since = attempt.attempt_started_at
        attempt.state, attempt.updated_at = "sending", now
        if unsure_since is None:
            attempt.attempt_started_at = now
        to, lang = attempt.ring_to, s.get(User, attempt.user_id).locale
    found = None
    if unsure_since is not None:   # an earlier try's outcome is unknown: ask Twilio first
        try:
            calls = dialer.find_ring(to=to, since=unsure_since - timedelta(minutes=1))
        except DialError as exc:
            return _failed_try(db, attempt_id, exc, now, keep_unsure=True)
        with db.session() as s:   # one active attempt per phone: a call no other attempt owns is this one's
            owned = set(s.scalars(select(CallAttempt.twilio_sid).where(
                CallAttempt.twilio_sid.in_([sid for sid, _ in calls]))))
        found = next((c for c in calls if c[0] not in owned), None)
        if found is None:
            with db.session() as s:
                s.get(CallAttempt, attempt_id).attempt_started_at = now
    outcome = "found"
    if found is None:
        try:
            found = dialer.ring(to=to, url=urls.answer(attempt_id, lang), status_callback=urls.status(attempt_id))
        except DialError as exc:
            return _failed_try(db, attempt_id, exc, now, keep_unsure=exc.ambiguous)
        outcome = "rang"
    sid, _status = found
    with db.session() as s:
        attempt = s.get(CallAttempt, attempt_id)
        attempt.twilio_sid = attempt.twilio_sid or sid
        attempt.attempt_started_at, attempt.updated_at = None, now
        if attempt.state == "sending":   # a webhook may already have moved it on (adopted the CallSid)
            attempt.state = "ringing"
    return outcome


def not_configured(db, attempt_id: int, reason: str, *, now: datetime | None = None) -> str:
    """The REST settings are missing (no ``TWILIO_FROM_NUMBER``…): no retry can help; the
    attempt ends ``failed`` with the reason shown, and the task is free for another try."""
    now = now or utcnow()
    with db.session() as s:
        attempt = s.get(CallAttempt, attempt_id)
        if attempt is None or attempt.state not in ("queued", "sending"):
            return "nothing"
        attempt.error = reason[:240]
        _end(s, attempt, "failed", now, outcome="not-configured")
    return "failed"


def _failed_try(db, attempt_id: int, exc: DialError, now: datetime, keep_unsure: bool) -> str:
    with db.session() as s:
        attempt = s.get(CallAttempt, attempt_id)
        attempt.error_code, attempt.error, attempt.updated_at = exc.code or exc.status, str(exc)[:240], now
        if not keep_unsure:
            attempt.attempt_started_at = None   # Twilio certainly created nothing
        if not exc.retryable or attempt.tries >= MAX_TRIES:
            _end(s, attempt, "failed", now, outcome=str(exc.code or exc.status or "unreachable"))
            log.warning("call-back attempt %s failed: %s", attempt_id, exc)
            return "failed"
        attempt.state = "queued"
    log.info("call-back attempt %s: %s; retrying", attempt_id, exc)
    raise RetryLater(str(exc))


def _end(session: Session, attempt: CallAttempt, state: str, now: datetime, *, outcome: str = "") -> None:
    """An attempt's final state: it frees the task for the next "call back"."""
    attempt.state, attempt.outcome, attempt.active_task_id, attempt.active_ring_to = state, outcome[:32], None, None
    attempt.ended_at = attempt.updated_at = now
    audit(session, TWILIO_ACTOR, "callback.call_end", f"task:{attempt.task_id}", at=now, attempt=attempt.id,
          state=state, outcome=outcome, talk_seconds=attempt.talk_seconds)


# ---- the call's webhooks --------------------------------------------------------------------

class NotThisCall(LookupError):
    """A webhook names an attempt that is not this Twilio call's."""


def attempt_for(session: Session, attempt_id: int, call_sid: str, to: str | None = None) -> CallAttempt:
    """The attempt a webhook of call ``call_sid`` is about. A call whose ``Calls.create``
    answer has not been recorded yet (the response was lost, or is still on its way) is
    adopted when Twilio calls with the number the attempt rings."""
    attempt = session.get(CallAttempt, attempt_id, with_for_update=True)
    if attempt is None:
        raise NotThisCall(f"no call-back attempt {attempt_id}")
    if attempt.twilio_sid is None and attempt.state in ("queued", "sending") and to == attempt.ring_to:
        attempt.twilio_sid, attempt.state, attempt.attempt_started_at = call_sid, "ringing", None
    if attempt.twilio_sid != call_sid:
        raise NotThisCall(f"call-back attempt {attempt_id} is not call {call_sid}")
    return attempt


def supervisor_answered(session: Session, attempt: CallAttempt, now: datetime) -> CallbackTask | None:
    """The supervisor picked up: the task to dial the caller of, or None (hang up: the
    attempt is over, or its task was closed meanwhile)."""
    task = session.get(CallbackTask, attempt.task_id)
    if attempt.state not in ("ringing", "connecting"):
        return None
    if task.state in FINAL:
        _end(session, attempt, "failed", now, outcome="task-closed")
        return None
    attempt.state, attempt.updated_at = "connecting", now
    return task


CALLER_REACHED = ("completed", "answered")
CALLER_NOT_REACHED = ("busy", "no-answer", "failed")


def caller_outcome(session: Session, attempt: CallAttempt, status: str, seconds: int | None,
                   now: datetime, caller_sid: str | None = None) -> None:
    """The caller's leg ended with ``status`` (``DialCallStatus`` or the leg's ``CallStatus``)
    after ``seconds`` of talk. The first report decides; a second (the other source, a
    duplicate) only fills in a missing duration."""
    if attempt.state in ("connected", "not-reached"):
        if attempt.state == "connected" and attempt.talk_seconds is None and seconds is not None:
            attempt.talk_seconds = seconds
        return
    if attempt.state not in ("ringing", "connecting") or status not in CALLER_REACHED + CALLER_NOT_REACHED + (
            "canceled",):
        return
    attempt.caller_sid = attempt.caller_sid or caller_sid
    if status in CALLER_REACHED:
        attempt.talk_seconds = seconds
        _end(session, attempt, "connected", now, outcome=status)
        _move_task(session, attempt.task_id, "called", now)
    elif status in CALLER_NOT_REACHED:
        _end(session, attempt, "not-reached", now, outcome=status)
        _move_task(session, attempt.task_id, "not-reached", now)
    else:   # canceled: the supervisor hung up while the caller's phone rang
        _end(session, attempt, "failed", now, outcome="supervisor-hung-up")


def supervisor_status(session: Session, attempt: CallAttempt, status: str, seconds: int | None,
                      now: datetime) -> None:
    """The supervisor's leg ended (its status callback): its length is kept; a leg that never
    reached the Dial ends the attempt (not answered: ``supervisor-missed``, the task as it was)."""
    if seconds is not None:
        attempt.call_seconds = seconds
    attempt.updated_at = now
    if attempt.state not in ("queued", "sending", "ringing"):
        return   # connecting: the caller's leg reports the outcome (the Dial action, its status callback)
    if status in ("busy", "no-answer", "failed", "canceled"):
        _end(session, attempt, "supervisor-missed", now, outcome=status)
    elif status == "completed":   # answered, but the caller was never dialled (our answer failed)
        _end(session, attempt, "failed", now, outcome="not-dialled")


def _move_task(session: Session, task_id: int, state: str, now: datetime) -> None:
    """The call's outcome on its task: ``called`` when the caller was reached, ``not-reached``
    when not (an open task passes through ``called``: a supervisor did call). A task closed
    meanwhile, or already there, stays as it is."""
    task = session.get(CallbackTask, task_id)
    if task.state == state or task.state in FINAL:
        return
    if state == "not-reached" and task.state == "open":
        change_state(session, task.id, "called", actor=TWILIO_ACTOR, at=now)
    if state in NEXT[task.state]:
        change_state(session, task.id, state, actor=TWILIO_ACTOR, at=now)


def active(attempt: CallAttempt) -> bool:
    return attempt.state in ACTIVE_ATTEMPT
