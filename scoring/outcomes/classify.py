"""What happened on every call and every agent leg, derived only from stored Twilio signals.

Nothing here is stored: outcomes are recomputed from calls, queue entries, legs and survey
answers, so a rule change re-evaluates history. Times are ``Call.started_at`` (Twilio's
``Timestamp − CallDuration``); calls without a final status callback have no Twilio time and
take no part in repeat-call detection.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from scoring.outcomes.rules import Rules, load_rules
from store.agents import Agent
from store.base import UTCDateTime
from store.calls import Call, Leg, QueueEntry, SurveyAnswer

FAILED_CALL_STATUSES = ("failed", "busy", "no-answer", "canceled")


@dataclass(frozen=True)
class Threshold:
    seconds: int
    source: str          # "configured" | "queue" | "centre" | "fallback"
    calls: int           # caller-ended calls the quantile was taken from


@dataclass(frozen=True)
class LegOutcome:
    leg_id: int
    call_sid: str
    agent_id: str
    team: str
    queue: str
    started_at: datetime            # the call's Twilio start
    outcome: str                    # handled | no-answer | busy | failed | canceled | in-progress
    ended_by: str | None            # agent | caller | None (never bridged)
    talk_seconds: int
    wait_seconds: int | None
    survey_reached: bool
    adequate: bool | None           # answer to "answered adequately?", None if not answered
    truncated: bool                 # the agent ended it under the short-talk threshold (not by a transfer)
    threshold: Threshold | None     # the short-talk threshold applied (bridged legs)
    cap_cut: bool
    repeat_call_sid: str | None     # the caller called again within the window: FCR lost
    repeat_gap_seconds: int | None
    transferred_to: str | None = None   # the queue the agent transferred the caller to


@dataclass(frozen=True)
class CallOutcome:
    call_sid: str
    started_at: datetime
    outcome: str          # handled | ivr-abandoned | queue-abandoned | failed | after-hours | in-progress
    queue_wait_seconds: int
    entries: int
    legs: int


def started_between(start: datetime, end: datetime):
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end <= start:
        raise ValueError("end must be after start")
    return and_(Call.started_at >= start, Call.started_at < end)


def _lower_quantile(histogram: list[tuple[int, int]], q: float) -> int:
    """Smallest value with at least a q share of the calls at or below it."""
    total = sum(n for _, n in histogram)
    seen = 0
    for value, n in sorted(histogram):
        seen += n
        if seen >= q * total:
            return value
    raise ValueError("empty histogram")


def truncation_thresholds(session: Session, start: datetime, end: datetime,
                          rules: Rules | None = None) -> dict[str | None, Threshold]:
    """Short-talk threshold per queue (key None = any other queue), from caller-ended talk times."""
    rules = rules or load_rules()
    if rules.short_talk_seconds is not None:
        return {None: Threshold(rules.short_talk_seconds, "configured", 0)}
    rows = session.execute(
        select(Leg.queue, Leg.talk_seconds, func.count())
        .join(Call, Call.sid == Leg.call_sid)
        .where(started_between(start, end), Leg.bridged.is_(True), Leg.ended_by == "caller")
        .group_by(Leg.queue, Leg.talk_seconds)
    ).all()
    by_queue: dict[str, list[tuple[int, int]]] = {}
    for queue, talk, n in rows:
        by_queue.setdefault(queue, []).append((talk or 0, n))
    everything = [pair for pairs in by_queue.values() for pair in pairs]
    centre_n = sum(n for _, n in everything)
    if centre_n >= rules.auto_min_calls:
        default = Threshold(_lower_quantile(everything, rules.auto_quantile), "centre", centre_n)
    else:
        default = Threshold(rules.fallback_seconds, "fallback", centre_n)
    out: dict[str | None, Threshold] = {None: default}
    for queue, pairs in by_queue.items():
        n = sum(c for _, c in pairs)
        if n >= rules.auto_min_calls:
            out[queue] = Threshold(_lower_quantile(pairs, rules.auto_quantile), "queue", n)
    return out


def _next_calls(start: datetime, end: datetime, window: timedelta):
    """Each Twilio-timed call with the same number's next call (a window function: set-based)."""
    order = (Call.started_at, Call.sid)
    return (
        select(Call.sid.label("sid"),
               func.lead(Call.sid).over(partition_by=Call.from_number, order_by=order).label("next_sid"),
               func.lead(Call.started_at, type_=UTCDateTime()).over(partition_by=Call.from_number, order_by=order).label("next_at"))
        .where(Call.time_source == "twilio", Call.started_at >= start, Call.started_at < end + window)
        .subquery()
    )


def classify_legs(session: Session, start: datetime, end: datetime, rules: Rules | None = None,
                  thresholds: dict[str | None, Threshold] | None = None) -> list[LegOutcome]:
    """Every agent leg of calls started in [start, end), with its outcome and rule verdicts.

    ``thresholds`` lets a batched recompute apply the thresholds of its whole range.
    """
    rules = rules or load_rules()
    thresholds = thresholds or truncation_thresholds(session, start, end, rules)
    window = timedelta(hours=rules.repeat_window_hours)
    nxt = _next_calls(start, end, window)
    adequate = (
        select(SurveyAnswer.leg_id, SurveyAnswer.value)
        .where(SurveyAnswer.question == rules.adequate_question, SurveyAnswer.status == "answered")
        .subquery()
    )
    rows = session.execute(
        select(Leg.id, Leg.call_sid, Leg.agent_id, Agent.team, Leg.queue, Call.started_at, Call.from_number,
               Leg.dial_status, Leg.bridged, Leg.ended_by, Leg.talk_seconds, Leg.queue_seconds, Leg.survey_state,
               adequate.c.value, nxt.c.next_sid, nxt.c.next_at, Leg.seq, Leg.transfer_queue)
        .join(Call, Call.sid == Leg.call_sid)
        .join(Agent, Agent.id == Leg.agent_id)
        .outerjoin(adequate, adequate.c.leg_id == Leg.id)
        .outerjoin(nxt, nxt.c.sid == Leg.call_sid)
        .where(started_between(start, end))
        .order_by(Call.started_at, Leg.call_sid, Leg.seq)
    ).all()
    last_handled: dict[str, int] = {}
    for r in rows:
        if r.bridged:
            last_handled[r.call_sid] = r.seq
    cap, cap_from = rules.cap_seconds, rules.cap_seconds - rules.cap_window_seconds
    out = []
    for r in rows:
        talk = r.talk_seconds or 0
        handled = bool(r.bridged)
        threshold = thresholds.get(r.queue, thresholds[None]) if handled else None
        said_no = r.value == rules.adequate_no_value if r.value is not None else None
        transferred = handled and r.ended_by == "agent" and r.transfer_queue is not None
        truncated = handled and r.ended_by == "agent" and not transferred and talk < threshold.seconds
        repeat_sid = repeat_gap = None
        if (handled and last_handled.get(r.call_sid) == r.seq and r.next_at is not None
                and (r.from_number or "").lower() not in rules.ignore_numbers
                and r.next_at - r.started_at <= window):
            repeat_sid, repeat_gap = r.next_sid, int((r.next_at - r.started_at).total_seconds())
        out.append(LegOutcome(
            leg_id=r.id, call_sid=r.call_sid, agent_id=r.agent_id, team=r.team, queue=r.queue,
            started_at=r.started_at,
            outcome="handled" if handled else (r.dial_status or "in-progress"),
            ended_by=r.ended_by, talk_seconds=talk, wait_seconds=r.queue_seconds,
            survey_reached=r.survey_state in ("offered", "finished"),   # in the call; not "follow-up"
            adequate=None if said_no is None else not said_no,
            truncated=truncated, threshold=threshold,
            cap_cut=handled and r.ended_by == "agent" and cap_from <= talk < cap,
            repeat_call_sid=repeat_sid, repeat_gap_seconds=repeat_gap,
            transferred_to=r.transfer_queue if transferred else None,
        ))
    return out


def classify_calls(session: Session, start: datetime, end: datetime) -> list[CallOutcome]:
    """Every call started in [start, end): where it ended up, from its entries and legs."""
    entries = (
        select(QueueEntry.call_sid,
               func.count().label("n"),
               func.coalesce(func.sum(QueueEntry.wait_seconds), 0).label("wait"),
               func.sum(case((QueueEntry.state == "abandoned", 1), else_=0)).label("abandoned"),
               func.sum(case((QueueEntry.state == "failed", 1), else_=0)).label("failed"))
        .group_by(QueueEntry.call_sid).subquery()
    )
    legs = (
        select(Leg.call_sid, func.count().label("n"),
               func.sum(case((Leg.bridged.is_(True), 1), else_=0)).label("bridged"))
        .group_by(Leg.call_sid).subquery()
    )
    rows = session.execute(
        select(Call.sid, Call.started_at, Call.status, Call.after_hours,
               entries.c.n, entries.c.wait, entries.c.abandoned, entries.c.failed,
               legs.c.n.label("legs"), legs.c.bridged)
        .outerjoin(entries, entries.c.call_sid == Call.sid)
        .outerjoin(legs, legs.c.call_sid == Call.sid)
        .where(started_between(start, end))
        .order_by(Call.started_at, Call.sid)
    ).all()
    out = []
    for r in rows:
        n_entries, n_legs = r.n or 0, r.legs or 0
        if r.after_hours:
            outcome = "after-hours"
        elif r.bridged:
            outcome = "handled"
        elif r.status in FAILED_CALL_STATUSES:
            outcome = "failed"
        elif r.status != "completed":
            outcome = "in-progress"
        elif n_entries == 0:
            outcome = "ivr-abandoned"
        elif r.abandoned or (n_legs and not r.failed):
            outcome = "queue-abandoned"  # hung up waiting, or while the agent's phone rang
        else:
            outcome = "failed"  # dropped: queue errors and no agent ever bridged
        out.append(CallOutcome(r.sid, r.started_at, outcome, int(r.wait or 0), n_entries, n_legs))
    return out
