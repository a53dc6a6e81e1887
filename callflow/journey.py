"""The caller's journey as a state machine: one function per step Twilio reports.

Each function takes what the step's webhook said (already parsed), changes the call's
state in the caller's transaction, and returns what happened, so that the webhook only
renders it as TwiML. Nothing here knows about HTTP or TwiML; times are Twilio's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callflow.calls import apply_status, open_call
from callflow.hangup import LegEnd, classify_leg_end
from callflow.legs import finish_leg
from callflow.routing import enqueue, rank_in_queue, release_reservation, try_assign
from ivr.choices import Accepted, GaveUp, Retry, resolve_digits
from ivr.menu import Menu
from store.agents import Agent
from store.base import utcnow
from store.calls import Call, Leg, QueueEntry

MAX_QUEUE_VISITS = 4      # a queue that keeps failing gets three more tries, then an apology
ANNOUNCE_EVERY = 60       # seconds of waiting between two position announcements
SECONDS_PER_POSITION = 30  # the expected wait when Twilio's average says less


class NotOnThisCall(LookupError):
    """The webhook names a queue visit or leg that is not this call's."""


@dataclass(frozen=True)
class Caller:
    """Who a webhook is about: Twilio's ``CallSid`` and the numbers it reports."""
    sid: str
    account_sid: str = ""
    from_number: str = ""
    to_number: str = ""


def _call(session: Session, caller: Caller) -> Call:
    return open_call(session, caller.sid, account_sid=caller.account_sid, from_number=caller.from_number,
                     to_number=caller.to_number)


# --- the IVR ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Arrival:
    open: bool                 # within business hours
    language: str | None       # decided already when the menu has one language


def arrive(session: Session, caller: Caller, menu: Menu, now: datetime | None = None) -> Arrival:
    """The call comes in: closed after hours; one language needs no choice."""
    call = _call(session, caller)
    if not menu.hours.is_open(now or utcnow()):
        call.after_hours = True
        return Arrival(open=False, language=None)
    if len(menu.languages) == 1:
        call.language = menu.default_language
        return Arrival(open=True, language=call.language)
    return Arrival(open=True, language=None)


@dataclass(frozen=True)
class LanguageChoice:
    language: str | None       # chosen (or the default after too many tries); None: ask again
    retry: Retry | None = None


def choose_language(session: Session, caller: Caller, digits: str | None, attempt: int,
                    menu: Menu) -> LanguageChoice:
    call = _call(session, caller)
    decision = resolve_digits(digits, {lang.digit for lang in menu.languages.values()}, attempt, menu.max_attempts)
    if isinstance(decision, Retry):
        return LanguageChoice(None, decision)
    call.language = (menu.language_by_digit(decision.value).key if isinstance(decision, Accepted)
                     else menu.default_language)
    return LanguageChoice(call.language)


@dataclass(frozen=True)
class QueueChoice:
    language: str
    entry: QueueEntry | None    # the queue visit, once a queue is chosen (or defaulted)
    retry: Retry | None = None
    gave_up: GaveUp | None = None


def choose_queue(session: Session, caller: Caller, language: str | None, digits: str | None, attempt: int,
                 menu: Menu) -> QueueChoice:
    """The main menu: a key picks a queue; after ``max_attempts`` failures the default queue."""
    call = _call(session, caller)
    lang = menu.language(language or call.language).key
    call.language = call.language or lang
    decision = resolve_digits(digits, {o.digit for o in menu.options}, attempt, menu.max_attempts)
    if isinstance(decision, Accepted):
        call.menu_key = decision.value
        return QueueChoice(lang, enqueue(session, call, menu.option_by_digit(decision.value).queue, "menu"))
    if isinstance(decision, GaveUp):
        return QueueChoice(lang, enqueue(session, call, menu.default_queue, "default"), gave_up=decision)
    return QueueChoice(lang, None, retry=decision)


# --- the queue --------------------------------------------------------------------------

def _entry(session: Session, call: Call, entry_id: int | None, default_queue: str) -> QueueEntry:
    """The queue visit named in the URL, or (on a fallback path) the call's latest one."""
    if entry_id is not None:
        entry = session.get(QueueEntry, entry_id)
        if entry is None or entry.call_sid != call.sid:
            raise NotOnThisCall("entry does not belong to this call")
        return entry
    entry = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call.sid)
                           .order_by(QueueEntry.visit.desc()).limit(1))
    if entry is None or entry.state not in ("waiting", "reserved"):
        entry = enqueue(session, call, default_queue, "fallback")
    return entry


@dataclass(frozen=True)
class Turn:
    leave: bool                           # an agent is reserved: leave the queue for the dial
    position: int | None = None           # announce the position (None: keep quiet)
    expected_seconds: int | None = None


def wait_turn(session: Session, caller: Caller, entry_id: int | None, queue_time: int, avg_queue_time: int,
              default_queue: str) -> Turn:
    """One round of the queue's wait loop: reserve an agent if it is the caller's turn, else
    say where the caller stands on a new position or every minute. A retried request (the
    same ``QueueTime``) hears the announcement again."""
    entry = _entry(session, _call(session, caller), entry_id, default_queue)
    if try_assign(session, entry) is not None:
        return Turn(leave=True)
    position = rank_in_queue(session, entry) if entry.state == "waiting" else 1
    if (entry.announced_position != position or queue_time - (entry.announced_at_wait or 0) >= ANNOUNCE_EVERY
            or queue_time == entry.announced_at_wait):
        entry.announced_position, entry.announced_at_wait = position, queue_time
        return Turn(False, position, max(avg_queue_time - queue_time, SECONDS_PER_POSITION * position))
    return Turn(False)


@dataclass(frozen=True)
class QueueExit:
    """How the caller left the queue: ``dial`` (leg and agent set), ``gone`` (hung up or
    bridged elsewhere), ``retry`` (entry: a new visit of the same queue) or ``give-up``."""
    kind: str
    leg: Leg | None = None
    agent: Agent | None = None
    entry: QueueEntry | None = None


GONE_RESULTS = ("hangup", "bridged", "redirected", "redirected-from-bridged")


def leave_queue(session: Session, caller: Caller, entry_id: int | None, result: str, queue_time: int,
                language: str, default_queue: str) -> QueueExit:
    """The Enqueue ``action``: ``QueueResult`` says why the caller left; ``QueueTime`` how long
    they waited. A reserved caller is dialled to the agent on a new leg."""
    call = _call(session, caller)
    entry = _entry(session, call, entry_id, default_queue)
    entry.result, entry.wait_seconds = result, queue_time
    if result == "leave" and entry.state == "reserved":
        entry.state = "left"
        agent = session.get(Agent, entry.agent_id)
        return QueueExit("dial", leg=_new_leg(session, entry, agent, language), agent=agent)
    release_reservation(session, entry)
    if result in GONE_RESULTS:
        entry.state = "abandoned" if result == "hangup" else "left"
        return QueueExit("gone")
    # leave without a reservation, error, system-error, queue-full: try again, then apologise.
    entry.state = "failed"
    if len(call.entries) < MAX_QUEUE_VISITS:
        return QueueExit("retry", entry=enqueue(session, call, entry.queue, "retry", priority=1))
    return QueueExit("give-up")


def _new_leg(session: Session, entry: QueueEntry, agent: Agent, language: str) -> Leg:
    seq = (session.scalar(select(func.max(Leg.seq)).where(Leg.call_sid == entry.call_sid)) or 0) + 1
    leg = Leg(call_sid=entry.call_sid, seq=seq, entry_id=entry.id, queue=entry.queue, agent_id=agent.id,
              language=language, queue_seconds=entry.wait_seconds)
    session.add(leg)
    session.flush()
    return leg


# --- the agent leg ----------------------------------------------------------------------

@dataclass(frozen=True)
class DialReport:
    """What the Dial ``action`` reports of the agent leg."""
    call_status: str
    dial_status: str
    bridged: bool | None          # ``DialBridged``, when Twilio sends it
    talk_seconds: int             # ``DialCallDuration``
    dial_call_sid: str | None = None
    received_at: datetime | None = None   # when Twilio sent it, if not now (a webhook kept during an outage)


@dataclass(frozen=True)
class LegEnded:
    leg: Leg
    end: LegEnd
    entry: QueueEntry | None = None   # the caller's new queue visit: the agent never answered, or transferred

    @property
    def transferred(self) -> bool:
        return self.entry is not None and self.entry.reason == "transfer-out"


def end_leg(session: Session, caller: Caller, leg_id: int, report: DialReport, *, survey_version: str,
            wrapup_seconds: int) -> LegEnded:
    """The Dial ``action``: who hung up decides whether the survey is offered; an agent who
    never answered goes offline and the caller goes back to the head of the queue; an agent
    who asked for a transfer (``request_transfer``) and hung up sends the caller, still on
    the line, to the head of that queue instead of the survey."""
    call = _call(session, caller)
    leg = session.get(Leg, leg_id)
    if leg is None or leg.call_sid != call.sid:
        raise NotOnThisCall("leg does not belong to this call")
    end = classify_leg_end(report.call_status, report.dial_status, report.bridged, report.talk_seconds)
    bridged = end.outcome == "handled"
    finish_leg(session, leg, dial_status=report.dial_status, ended_by=end.ended_by, bridged=bridged,
               talk_seconds=report.talk_seconds if bridged else 0, dial_call_sid=report.dial_call_sid,
               agent_unreachable=end.agent_unreachable, wrapup_seconds=wrapup_seconds, at=report.received_at)
    if leg.transfer_queue and end.start_survey:
        return LegEnded(leg, end, enqueue(session, call, leg.transfer_queue, "transfer-out", priority=1))
    leg.transfer_queue = None        # asked for, but the caller hung up first (or nobody answered)
    if end.start_survey:
        leg.survey_state, leg.survey_version = "offered", survey_version
    if end.requeue:
        return LegEnded(leg, end, enqueue(session, call, leg.queue, "requeue", priority=1))
    return LegEnded(leg, end)


class TransferRefused(ValueError):
    """A transfer the agent cannot make; the message says why."""


def request_transfer(session: Session, agent_id: str, queue: str, queues: set[str]) -> Leg:
    """The agent's console asks to send the caller on to ``queue``: remembered on the agent's
    leg in progress, carried out by the Dial ``action`` when the agent hangs up (Twilio has no
    transfer inside a ``<Dial>``; the leg ends and the action's TwiML decides what the caller,
    still on the line, hears next). Asking again replaces the queue."""
    if queue not in queues:
        raise TransferRefused(f"queue must be one of {', '.join(sorted(queues))}")
    leg = session.scalar(select(Leg).where(Leg.agent_id == agent_id, Leg.ended_at.is_(None))
                         .order_by(Leg.id.desc()).limit(1).with_for_update())
    if leg is None:
        raise TransferRefused(f"agent {agent_id!r} has no call in progress")
    if leg.queue == queue:
        raise TransferRefused(f"the caller came from queue {queue!r} already")
    leg.transfer_queue = queue
    session.flush()
    return leg


def transfer_back(session: Session, caller: Caller, leg_id: int) -> QueueEntry:
    """The caller asked, in the survey, to speak to an agent again: back to the leg's queue,
    ahead of new callers; the next agent makes a new leg of the same call."""
    call = _call(session, caller)
    leg = session.get(Leg, leg_id)
    if leg is None or leg.call_sid != call.sid:
        raise NotOnThisCall("leg does not belong to this call")
    return enqueue(session, call, leg.queue, "transfer-back", priority=1)


# --- the call's status ------------------------------------------------------------------

def report_status(session: Session, caller: Caller, status: str, sequence: int | None, duration: int | None,
                  timestamp: datetime | None) -> bool:
    """A status callback; True if applied (a stale or late one is not)."""
    return apply_status(session, _call(session, caller), status, sequence, duration, timestamp)
