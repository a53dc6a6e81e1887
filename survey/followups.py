"""Follow-up surveys: asking again the callers who left before the in-call survey was done.

The life of one follow-up (``store.followups.Followup``, one row per leg):

- ``plan``: a leg whose in-call survey is incomplete (the caller hung up first, or left
  mid-survey) gets a row once its call has ended: ``skipped`` with the reason (the queue's
  policy says none, a withheld or opted-out number, a survey to that number in the last N
  days, nothing left to ask, or the server's random draw), or ``scheduled`` for the end of
  the call plus the delay, moved out of the quiet hours.
- ``due``: scheduled rows whose time has come become ``queued`` (one send job each).
- ``send``: claims the row (``sending``, the attempt's start recorded) BEFORE the REST
  request, then records Twilio's SID (``sent``; the leg's ``survey_state`` becomes
  ``follow-up`` if no survey had been offered, so its answers are accepted). Twilio's REST
  API takes no idempotency key, so an attempt whose outcome is unknown (a timeout, a 5xx, a
  worker killed mid-request) is reconciled before any retry: the sender looks the message or
  call up at Twilio, and only when Twilio has none is it sent again. 429/5xx/timeouts come
  back later with exponential back-off; a refusal (21610 unsubscribed, 21211 invalid number)
  is final, and 21610 puts the number on the do-not-contact list.
- replies: ``sms_reply`` reads a text (one answer per question, one re-ask after a reply it
  cannot read, STOP for good); the call-back runs the keypad survey (``webhooks.followup_voice``).
  Answers go through ``survey.answers.record_answer`` with their channel, never with
  ``finish`` (the leg's in-call state keeps its meaning); the row tracks completion.

What a follow-up asks: the survey's rated questions (those without ``transfer_on``: "speak to
an agent again" makes no sense hours later) that have no stored row for the leg. An
abandoned in-call survey keeps what the caller did answer (answers are unique per leg and
question); only the rest is asked. A question the caller met in the call but did not answer
(no-input, invalid) has a row, so it is not asked again.

Every function takes ``now``: jobs pass the wall clock, tests and the emulator proof their own.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from store.base import upsert_ignore
from store.calls import Call, Leg, SurveyAnswer
from store.followups import Followup, OptOut
from store.jobs import Job
from store.rollup import forget_days_of
from survey.answers import REFUSED, record_answer
from survey.definition import Survey
from survey.flow import Record
from survey.followup_policy import FollowupPolicy
from survey.followup_sms import is_stop, parse_answer

log = logging.getLogger(__name__)

WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable", "blocked"})
BACKOFF_SECONDS = (60, 300, 900, 3600)   # after the 1st, 2nd, 3rd and later retryable failures
MAX_SEND_ATTEMPTS = 6
OPEN_STATES = ("scheduled", "queued", "sending", "sent")
PLAN_BATCH = 500
LOOKBACK = timedelta(days=2)   # calls that ended longer ago than this are never planned


class SendError(Exception):
    """The REST request did not create the message or call (see ``retryable``, ``ambiguous``)."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None,
                 retryable: bool = False, ambiguous: bool = False):
        super().__init__(message)
        self.code, self.status, self.retryable, self.ambiguous = code, status, retryable, ambiguous


class Sender(Protocol):
    """What the follow-ups need from Twilio's REST API (``outbound.twilio_rest`` implements it)."""

    def send_sms(self, *, to: str, body: str, status_callback: str) -> tuple[str, str]:
        """Create a Message; returns (SID, status). Raises ``SendError``."""

    def start_call(self, *, to: str, url: str, status_callback: str) -> tuple[str, str]:
        """Create a Call with machine detection; returns (SID, status). Raises ``SendError``."""

    def find_sent(self, *, channel: str, to: str, since: datetime) -> tuple[str, str] | None:
        """A message (``sms``) or call (``callback``) to ``to`` created at or after ``since``,
        as (SID, status), or None: how an attempt of unknown outcome is settled."""


@dataclass(frozen=True)
class Urls:
    """Where Twilio reaches the app for follow-ups (absolute, as Twilio needs them)."""
    base: str

    def sms_status(self) -> str:
        return f"{self.base}/sms/status"

    def call_start(self, followup_id: int, lang: str) -> str:
        """``lang`` rides in the URL so that an apology during a database outage speaks it."""
        return f"{self.base}/followup/voice/start?fu={followup_id}&lang={lang}"

    def call_status(self, followup_id: int) -> str:
        return f"{self.base}/followup/voice/status?fu={followup_id}"


def rated_questions(survey: Survey) -> tuple[str, ...]:
    """The questions a follow-up may ask: every one but those that transfer to an agent."""
    return tuple(q.key for q in survey.questions if q.transfer_on is None)


def withheld(number: str | None) -> bool:
    """A number we cannot (or must not) text or call back: hidden, or not a phone number."""
    raw = (number or "").strip()
    digits = raw[1:] if raw.startswith("+") else raw
    return raw.lower() in WITHHELD or not (digits.isdigit() and 7 <= len(digits) <= 15)


def opted_out(session: Session, number: str) -> bool:
    return session.get(OptOut, number) is not None


def opt_out(session: Session, number: str, keyword: str, source: str, now: datetime) -> int:
    """Put ``number`` on the do-not-contact list for good and close its open follow-ups;
    returns how many were closed."""
    upsert_ignore(session, OptOut, {"number": number, "keyword": keyword[:32], "source": source,
                                    "created_at": now})
    return session.execute(update(Followup).where(Followup.to_number == number,
                                                  Followup.state.in_(OPEN_STATES))
                           .values(state="opted-out", updated_at=now)).rowcount


# ---- planning --------------------------------------------------------------------------

def _candidates(session: Session, since: datetime | None, until: datetime):
    """Legs of ended calls whose in-call survey is incomplete and that have no follow-up row."""
    ended = func.coalesce(Call.ended_at, Leg.ended_at)
    incomplete = or_(Leg.survey_state == "offered",
                     and_(Leg.survey_state == "not-offered", Leg.ended_by == "caller"))
    q = (select(Leg, Call.from_number, Call.started_at, ended.label("ended"))
         .join(Call, Call.sid == Leg.call_sid)
         .where(Leg.bridged.is_(True), incomplete, Call.status == "completed", ended <= until,
                ~exists().where(Followup.leg_id == Leg.id))
         .order_by(Call.started_at, Leg.call_sid, Leg.seq).limit(PLAN_BATCH))
    if since is not None:
        q = q.where(ended >= since)
    return session.execute(q).all()


def _recent_survey(session: Session, number: str, leg_id: int, started: datetime, days: int) -> bool:
    """Was this number surveyed (in the call, or by a follow-up that went or will go out)
    on another leg of a call started in the ``days`` before this one (or at the same time)?"""
    if days <= 0:
        return False
    other = aliased(Leg)
    fu = exists().where(Followup.leg_id == other.id, Followup.state.not_in(("skipped", "failed")))
    return session.scalar(select(exists().where(
        other.call_sid == Call.sid, Call.from_number == number, other.id != leg_id,
        Call.started_at >= started - timedelta(days=days), Call.started_at <= started,
        or_(other.survey_state.in_(("offered", "finished")), fu)))) or False


def _missing(session: Session, leg_id: int, keys: tuple[str, ...]) -> list[str]:
    have = set(session.scalars(select(SurveyAnswer.question).where(SurveyAnswer.leg_id == leg_id)))
    return [k for k in keys if k not in have]


def plan(session: Session, policy: FollowupPolicy, survey: Survey, *, now: datetime,
         rng: random.Random | None = None, since: datetime | None = None) -> dict[str, int]:
    """Decide, once per leg, whether its caller is asked again; returns counts per decision.

    Legs of calls that ended in [since (default ``now`` - 2 days), ``now`` - their delay]
    are decided in call order, so the one-survey-per-number rule sees earlier decisions."""
    rng = rng or random.SystemRandom()
    min_delay = min([p.delay_minutes for p in (policy.default, *policy.queues.values())])
    since = now - LOOKBACK if since is None else since
    counts: dict[str, int] = {}
    keys = rated_questions(survey)
    for leg, number, started, ended in _candidates(session, since, now - timedelta(minutes=min_delay)):
        qp = policy.for_queue(leg.queue)
        if ended > now - timedelta(minutes=qp.delay_minutes):
            continue   # not yet: a later run decides
        number = (number or "").strip()
        row = Followup(leg_id=leg.id, call_sid=leg.call_sid, channel=qp.answer_channel, to_number=number[:64],
                       language=leg.language or "en", created_at=now, updated_at=now)
        missing = _missing(session, leg.id, keys)
        if qp.channel == "none":
            row.state, row.reason = "skipped", "policy-none"
        elif withheld(number):
            row.state, row.reason = "skipped", "withheld"
        elif not missing:
            row.state, row.reason = "skipped", "complete"
        elif opted_out(session, number):
            row.state, row.reason = "skipped", "opted-out"
        elif _recent_survey(session, number, leg.id, started, qp.one_survey_per_days):
            row.state, row.reason = "skipped", "recent-survey"
        elif rng.random() >= qp.sample_rate:
            row.state, row.reason = "skipped", "sampled-out"
        else:
            row.state, row.questions = "scheduled", missing
            row.send_after = policy.send_time(qp, ended + timedelta(minutes=qp.delay_minutes))
        session.add(row)
        session.flush()
        counts[row.reason or row.state] = counts.get(row.reason or row.state, 0) + 1
    return counts


def due(session: Session, now: datetime, limit: int = 200) -> list[int]:
    """Scheduled follow-ups whose time has come, marked ``queued``: the caller submits one
    send job per id in the same transaction (the job outbox)."""
    ids = list(session.scalars(select(Followup.id).where(Followup.state == "scheduled", Followup.send_after <= now)
                               .order_by(Followup.send_after, Followup.id).limit(limit)))
    queued = []
    for fid in ids:
        if session.execute(update(Followup).where(Followup.id == fid, Followup.state == "scheduled")
                           .values(state="queued", updated_at=now)).rowcount:
            queued.append(fid)
    return queued


def expire(session: Session, now: datetime) -> int:
    """Sent follow-ups past their expiry are closed: later replies are not stored."""
    return session.execute(update(Followup).where(Followup.state == "sent", Followup.expires_at <= now)
                           .values(state="expired", updated_at=now)).rowcount


# ---- sending ---------------------------------------------------------------------------

def sms_text(policy: FollowupPolicy, lang: str, question: str, intro: bool) -> str:
    text = policy.text(lang, f"q_{question}")
    return f"{policy.text(lang, 'intro')} {text}" if intro else text


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def send(db, sender: Sender, policy: FollowupPolicy, urls: Urls, followup_id: int, *, now: datetime) -> str:
    """Send one queued follow-up at most once; returns what happened (``sent``, ``deferred``,
    ``retry``, ``failed``, ``opted-out``, ``found`` (an earlier attempt had gone out) or
    ``nothing`` when the row is not the sender's to act on). Three short transactions: claim,
    REST request (none held), outcome."""
    with db.session() as s:
        fu = s.get(Followup, followup_id, with_for_update=True)
        if fu is None or fu.state not in ("queued", "sending"):
            return "nothing"
        leg = s.get(Leg, fu.leg_id)
        qp = policy.for_queue(leg.queue)
        if opted_out(s, fu.to_number):
            fu.state, fu.updated_at = "opted-out", now
            return "opted-out"
        unsure_since = fu.attempt_started_at
        if policy.is_quiet(qp, now):   # even a reconciliation waits: it may end in a send
            fu.state, fu.send_after, fu.updated_at = "scheduled", policy.send_time(qp, now), now
            return "deferred"
        fu.state, fu.updated_at = "sending", now
        if unsure_since is None:
            fu.send_attempts, fu.attempt_started_at = fu.send_attempts + 1, now
        channel, to, lang, first = fu.channel, fu.to_number, fu.language, fu.questions[fu.position]
    found = None
    if unsure_since is not None:   # an earlier attempt's outcome is unknown: ask Twilio first
        try:
            found = sender.find_sent(channel=channel, to=to, since=unsure_since - timedelta(minutes=1))
        except SendError as exc:
            return _failed_attempt(db, followup_id, exc, now, keep_unsure=True)
        if found is None:
            with db.session() as s:
                s.execute(update(Followup).where(Followup.id == followup_id).values(
                    send_attempts=Followup.send_attempts + 1, attempt_started_at=now, updated_at=now))
    if found is None:
        try:
            if channel == "sms":
                found = sender.send_sms(to=to, body=sms_text(policy, lang, first, intro=True),
                                        status_callback=urls.sms_status())
            else:
                found = sender.start_call(to=to, url=urls.call_start(followup_id, lang),
                                          status_callback=urls.call_status(followup_id))
        except SendError as exc:
            return _failed_attempt(db, followup_id, exc, now, keep_unsure=exc.ambiguous)
        outcome = "sent"
    else:
        outcome = "found"
    sid, status = found
    with db.session() as s:
        fu = s.get(Followup, followup_id)
        if fu.state != "sending":   # adopted by the caller's reply, or opted out, while the request ran
            fu.twilio_sid = fu.twilio_sid or sid
            return outcome
        fu.state, fu.twilio_sid, fu.twilio_status, fu.updated_at = "sent", sid, status, now
        _went_out(s, fu, now, qp.expiry_hours)
    return outcome


LATE_SENDING = "sending since "


def send_late_reply(db, sender: Sender, urls: Urls, job_id: int, *, to: str, body: str, now: datetime) -> str:
    """The answer to an SMS reply kept during a database outage (Twilio got an empty
    ``<Response/>``), sent as a message of its own at most once. Its job is one per
    ``MessageSid`` (submitted with the reply's replay) and marks itself before the REST request,
    so a retry after an attempt of unknown outcome asks Twilio first. Returns ``sent``, ``found``
    or ``failed`` (Twilio refused it); raises ``SendError`` when a retry may succeed."""
    with db.session() as s:
        row = s.get(Job, job_id, with_for_update=True)
        since = datetime.fromisoformat(row.note[len(LATE_SENDING):]) if row.note.startswith(LATE_SENDING) else None
        if since is None:
            row.note = f"{LATE_SENDING}{now.isoformat()}"
    if since is not None and sender.find_sent(channel="sms", to=to, since=since - timedelta(minutes=1)):
        return "found"
    try:
        sender.send_sms(to=to, body=body, status_callback=urls.sms_status())
    except SendError as exc:
        if exc.retryable:
            raise
        log.warning("the late answer to %s was refused: %s", to[-4:], exc)
        return "failed"
    return "sent"


def _failed_attempt(db, followup_id: int, exc: SendError, now: datetime, keep_unsure: bool) -> str:
    with db.session() as s:
        fu = s.get(Followup, followup_id)
        fu.error_code, fu.updated_at = exc.code or exc.status, now
        if not keep_unsure:
            fu.attempt_started_at = None   # Twilio certainly created nothing
        if not exc.retryable or fu.send_attempts >= MAX_SEND_ATTEMPTS:
            if exc.code == 21610:
                opt_out(s, fu.to_number, "21610", "twilio-21610", now)
            fu.state = "failed"
            log.warning("follow-up %s not sent: %s", followup_id, exc)
            return "failed"
        fu.state, fu.send_after = "scheduled", now + _backoff(fu.send_attempts)
        log.info("follow-up %s: %s; retrying at %s", followup_id, exc, fu.send_after.isoformat())
        return "retry"


# ---- status callbacks ------------------------------------------------------------------

MESSAGE_ORDER = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
                 "undelivered": 4, "failed": 4, "read": 5, "canceled": 4}


def message_status(session: Session, message_sid: str, status: str, error_code: int | None,
                   now: datetime) -> bool:
    """A message status callback: statuses only move forward (callbacks come out of order or
    twice); a failed delivery closes the follow-up, 21610 opts the number out. Returns
    whether the SID is one of ours."""
    fu = session.scalar(select(Followup).where(Followup.twilio_sid == message_sid))
    if fu is None:
        return False
    if MESSAGE_ORDER.get(status, -1) >= MESSAGE_ORDER.get(fu.twilio_status or "", -1):
        fu.twilio_status = status
    if status in ("failed", "undelivered"):
        fu.error_code = error_code
        if error_code == 21610:
            opt_out(session, fu.to_number, "21610", "twilio-21610", now)
            fu.state = "opted-out" if fu.state != "answered" else fu.state
        elif fu.state == "sent" and fu.position == 0:
            fu.state = "failed"
        if fu.state != "answered" and fu.position == 0:   # never reached the caller: not asked after all
            session.execute(update(Leg).where(Leg.id == fu.leg_id, Leg.survey_state == "follow-up")
                            .values(survey_state="not-offered"))
    fu.updated_at = now
    return True


def call_status(session: Session, fu: Followup, status: str, now: datetime) -> None:
    """The call-back's status callback: a final status closes a call-back nobody answered."""
    fu.twilio_status, fu.updated_at = status, now
    if fu.state != "sent":
        return
    if status in ("busy", "no-answer", "failed", "canceled"):
        fu.state, fu.reason = "no-answer", status
    elif status == "completed":
        fu.state = "no-answer" if fu.position == 0 else "expired"


# ---- answers ---------------------------------------------------------------------------

def adopt(session: Session, fu: Followup, policy: FollowupPolicy, now: datetime, sid: str | None = None) -> None:
    """The caller answered a follow-up whose send has no recorded outcome (Twilio created it,
    the response was lost): it did go out. Recorded as sent from the attempt's start; a
    later reconciliation finds it sent and does nothing."""
    started = fu.attempt_started_at or now
    qp = policy.for_queue(session.get(Leg, fu.leg_id).queue)
    fu.state, fu.twilio_sid, fu.updated_at = "sent", sid or fu.twilio_sid, now
    _went_out(session, fu, started, qp.expiry_hours)


def _went_out(session: Session, fu: Followup, sent_at: datetime, expiry_hours: float) -> None:
    """A follow-up went out at ``sent_at``: its leg counts as offered a survey, and the scorecard
    rollup of its call's day, which counted neither, is dropped to be counted again."""
    fu.sent_at, fu.expires_at, fu.attempt_started_at = sent_at, sent_at + timedelta(hours=expiry_hours), None
    session.execute(update(Leg).where(Leg.id == fu.leg_id, Leg.survey_state == "not-offered")
                    .values(survey_state="follow-up"))
    forget_days_of(session, session.scalar(select(Call.started_at).where(Call.sid == fu.call_sid)))


def unsure(session: Session, number: str, channel: str) -> Followup | None:
    """The number's follow-up on ``channel`` whose last send attempt has an unknown outcome."""
    return session.scalar(select(Followup).where(Followup.to_number == number, Followup.channel == channel,
                                                 Followup.state.in_(("scheduled", "queued", "sending")),
                                                 Followup.attempt_started_at.is_not(None))
                          .order_by(Followup.id.desc()).limit(1))


def open_followup(session: Session, number: str, channel: str, policy: FollowupPolicy | None = None,
                  now: datetime | None = None) -> Followup | None:
    """The number's most recently sent follow-up on ``channel`` that still takes answers; with
    ``policy``, one whose send outcome was unknown is adopted (the caller's reply proves it went out)."""
    found = session.scalar(select(Followup).where(Followup.to_number == number, Followup.channel == channel,
                                                  Followup.state == "sent")
                           .order_by(Followup.sent_at.desc(), Followup.id.desc()).limit(1))
    if found is None and policy is not None and (lost := unsure(session, number, channel)) is not None:
        adopt(session, lost, policy, now)
        found = lost
    return found


def store_answer(session: Session, fu: Followup, survey: Survey, record: Record, now: datetime) -> bool:
    """Store an answer to the follow-up's current question and move to the next; returns
    False when the leg refuses it (no survey on it any more)."""
    outcome, _ = record_answer(session, leg_id=fu.leg_id, call_sid=fu.call_sid, record=record, finish=False,
                               version=survey.version, channel=fu.channel, at=now)
    if outcome == REFUSED:
        fu.state, fu.reason, fu.updated_at = "expired", "refused", now
        return False
    fu.position, fu.reasks, fu.updated_at = fu.position + 1, 0, now
    if fu.position >= len(fu.questions):
        fu.state, fu.answered_at = "answered", now
    return True


def question(survey: Survey, key: str):
    return next(q for q in survey.questions if q.key == key)


def sms_reply(session: Session, policy: FollowupPolicy, survey: Survey, *, number: str, body: str,
              opt_out_type: str, now: datetime) -> str | None:
    """The text to answer an incoming SMS with (None: answer nothing)."""
    number = (number or "").strip()[:64]
    fu = open_followup(session, number, "sms", policy, now)
    lang = fu.language if fu is not None else next(iter(policy.texts))
    if is_stop(body, opt_out_type):
        opt_out(session, number, (body or "").strip() or opt_out_type, "sms", now)
        # Twilio confirms its own keywords (OptOutType set); the others we confirm ourselves.
        return None if opt_out_type else policy.text(lang, "stopped")
    if opt_out_type:          # START / HELP: Twilio answers those itself
        return None
    if fu is None:
        recent = session.scalar(select(Followup.language).where(Followup.to_number == number,
                                                                Followup.channel == "sms",
                                                                Followup.sent_at.is_not(None))
                                .order_by(Followup.sent_at.desc()).limit(1))
        return policy.text(recent, "closed") if recent else policy.text(lang, "unknown")
    if fu.expires_at is not None and now >= fu.expires_at:
        fu.state, fu.updated_at = "expired", now
        return policy.text(lang, "closed")
    q = question(survey, fu.questions[fu.position])
    value = parse_answer(body, q)
    if value is None and fu.reasks < survey.max_attempts - 1:
        fu.reasks, fu.updated_at = fu.reasks + 1, now
        return f"{policy.text(lang, 'reask')} {policy.text(lang, f'q_{q.key}')}"
    record = Record(q.key, value, "answered") if value is not None else Record(q.key, None, "invalid")
    if not store_answer(session, fu, survey, record, now):
        return policy.text(lang, "closed")
    if fu.state == "answered":
        return policy.text(lang, "thanks")
    return policy.text(lang, f"q_{fu.questions[fu.position]}")
