"""Reconcile what the app stored against the emulator's ground truth.

The emulator knows what really happened on every call (``CallTruth``); the app only saw
webhooks. After a run, every number the app stored must follow from what Twilio told it:

- per call: the call exists with its caller number, final status, ``CallDuration`` and
  Twilio start time; its language; the queues it visited, in order; whether the caller hung
  up while waiting in a queue;
- per agent leg (one ``<Dial>``, in order): the agent, the queue, the queue wait
  (``QueueTime``), ``DialCallStatus``, bridged or not, talk seconds (``DialCallDuration``),
  who hung up, whether the survey was offered;
- per survey answer: each key the caller pressed is stored exactly once, under the right
  question, value, leg, call and agent, and nothing the caller did not press is stored;
- per agent and in total: legs, handled (bridged) legs, and answers per question and value;
- whole tables: no duplicate answers, legs, queue visits or webhook events.

Mismatches are listed (``Mismatch``: what, where, expected from the truth, stored), never
just counted. It reads the app's tables (``store``), so it is not in the emulator, which
reaches the app only over HTTP like Twilio; ``flask simulate --check`` runs it, so it is in the
product, which never imports its benchmarks or tests (``.importlinter``).

    from aftercall.ground_truth import reconcile
    with db.session() as s:
        report = reconcile(s, result.truth, questions=[q.key for q in survey.questions],
                           languages={lang.digit: lang.key for lang in menu.languages.values()})
    print(report.summary())
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.calls import Call, Leg, QueueEntry, SurveyAnswer, WebhookEvent

from emulator.truth import CallTruth, LegTruth

QUESTIONS = ("adequate", "satisfaction", "anything_else")   # survey/survey.toml, in asking order
LANGUAGES = {"1": "en", "2": "ru"}                          # ivr/menu.toml: digit -> language key
CHUNK = 500
START_SLACK_S = 2.0  # Timestamp is to the second and CallDuration rounded: start within 2 s
TRUTH_DECIMALS = 3   # the truth keeps simulated seconds to the millisecond


@dataclass(frozen=True)
class Mismatch:
    scope: str          # call | leg | answer | agent | total | rows
    key: str            # call SID, "CA…#leg2", agent id, total name, table
    field: str
    expected: Any       # from the truth
    stored: Any         # from the database

    def __str__(self) -> str:
        return f"{self.scope:<6} {self.key}: {self.field}: truth {self.expected!r}, stored {self.stored!r}"


@dataclass
class Tally:
    """Per agent (or in total): legs, bridged legs and answers per (question, value)."""

    legs: int = 0
    handled: int = 0
    surveyed_legs: int = 0
    answers: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"legs": self.legs, "handled": self.handled, "surveyed_legs": self.surveyed_legs,
                "answers": sum(self.answers.values()),
                "by_question": {f"{q}={v}": n for (q, v), n in sorted(self.answers.items(), key=str)}}


@dataclass
class Reconciliation:
    calls: int                                   # truth records checked
    mismatches: list[Mismatch]
    expected: dict[str, Tally]                   # per agent, from the truth
    stored: dict[str, Tally]                     # per agent, from the database (truth calls only)
    totals: dict[str, tuple[int, int]]           # name -> (truth, stored)
    duplicates: dict[str, int]                   # table -> duplicated keys
    extra_calls: int = 0                         # stored calls that are not in the truth
    unjoined_visits: list[str] = field(default_factory=list)   # calls with a visit the caller never joined

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def by_field(self) -> Counter:
        return Counter(f"{m.scope}.{m.field}" for m in self.mismatches)

    def summary(self, limit: int = 20) -> str:
        lines = [f"reconciled {self.calls} calls against the truth: {len(self.mismatches)} mismatches"]
        width = max((len(k) for k in self.totals), default=10) + 2
        lines.append(f"  {'':<{width}}{'truth':>10}{'stored':>10}")
        for name, (want, got) in self.totals.items():
            lines.append(f"  {name:<{width}}{want:>10}{got:>10}{'' if want == got else '   <-- differs'}")
        if any(self.duplicates.values()):
            lines.append(f"  duplicate rows: {self.duplicates}")
        if self.extra_calls:
            lines.append(f"  stored calls not in the truth: {self.extra_calls}")
        if self.unjoined_visits:
            lines.append(f"  queue visits announced but never joined (caller hung up during the announcement before "
                         f"<Enqueue>; stored as abandoned with no wait, not a mismatch): {len(self.unjoined_visits)}")
        if self.mismatches:
            lines.append("  by field: " + ", ".join(f"{k} {n}" for k, n in self.by_field().most_common()))
            lines.extend("  " + str(m) for m in self.mismatches[:limit])
            if len(self.mismatches) > limit:
                lines.append(f"  … and {len(self.mismatches) - limit} more")
        return "\n".join(lines)


# ---- what the truth says -----------------------------------------------------------------

def whole_seconds(truth_s: float, how) -> set[int]:
    """What Twilio may have reported for a duration the truth gives as ``truth_s``: ``how`` (``int``
    truncates, as for ``QueueTime``; ``round``, as for ``CallDuration`` and ``DialCallDuration``)
    of the real value, which lies within half a millisecond of the truth's rounded one."""
    half = 0.5 * 10 ** -TRUTH_DECIMALS
    return {int(how(truth_s - half)), int(how(truth_s + half))}


def never_joined(entry: QueueEntry) -> bool:
    """A queue visit the app opened by answering ``<Say>…<Enqueue>`` that Twilio never reported
    on: no waitUrl request (which Twilio makes on joining; it sets the announcement or the
    reservation), no Enqueue action (which sets the wait), closed only by the call's end. The
    caller hung up during the announcement before the ``<Enqueue>`` verb ran; the truth has no
    such visit, the app keeps it as an abandoned visit with no wait (an SLA short abandon)."""
    return (entry.state == "abandoned" and entry.wait_seconds is None and entry.announced_position is None
            and entry.agent_id is None)


def bridged(leg: LegTruth) -> bool:
    return leg.dial_status == "completed"


def agent_ended(leg: LegTruth) -> bool:
    """The agent's side ended the bridge (a Dial timeLimit counts): the caller is still there."""
    return bridged(leg) and leg.hung_up_by in ("agent", "time-limit")


def expected_answers(leg: LegTruth, questions: Sequence[str]) -> list[tuple[str, int, str]]:
    """(question, value, status) the app must store for this leg: the callers press only valid keys,
    by position (the emulator answers the survey's 1st, 2nd, 3rd Gather)."""
    return [(questions[i], int(digit), "answered") for i, digit in enumerate(leg.survey[:len(questions)])]


def expected_tallies(truth: Iterable[CallTruth], questions: Sequence[str] = QUESTIONS) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for call in truth:
        for leg in call.legs:
            if leg.agent_id is None:
                continue
            t = tallies[leg.agent_id]
            t.legs += 1
            t.handled += bridged(leg)
            answers = expected_answers(leg, questions)
            t.surveyed_legs += bool(answers)
            t.answers.update((q, v) for q, v, _ in answers)
    return dict(tallies)


# ---- what the database holds -------------------------------------------------------------

def _chunks(items: list[str]):
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _load(session: Session, sids: list[str]):
    calls: dict[str, Call] = {}
    entries: dict[str, list[QueueEntry]] = defaultdict(list)
    legs: dict[str, list[Leg]] = defaultdict(list)
    answers: dict[int, list[SurveyAnswer]] = defaultdict(list)
    for part in _chunks(sids):
        calls.update((c.sid, c) for c in session.scalars(select(Call).where(Call.sid.in_(part))))
        for e in session.scalars(select(QueueEntry).where(QueueEntry.call_sid.in_(part))
                                 .order_by(QueueEntry.call_sid, QueueEntry.visit)):
            entries[e.call_sid].append(e)
        for leg in session.scalars(select(Leg).where(Leg.call_sid.in_(part)).order_by(Leg.call_sid, Leg.seq)):
            legs[leg.call_sid].append(leg)
        for a in session.scalars(select(SurveyAnswer).where(SurveyAnswer.call_sid.in_(part))
                                 .order_by(SurveyAnswer.id)):
            answers[a.leg_id].append(a)
    return calls, entries, legs, answers


def duplicate_rows(session: Session) -> dict[str, int]:
    """Keys that occur more than once where each must be unique (whole tables)."""
    def dupes(*cols) -> int:
        sub = select(*cols).group_by(*cols).having(func.count() > 1).subquery()
        return session.scalar(select(func.count()).select_from(sub)) or 0
    return {
        "survey_answers(leg, question)": dupes(SurveyAnswer.leg_id, SurveyAnswer.question),
        "legs(call, seq)": dupes(Leg.call_sid, Leg.seq),
        "legs(queue visit)": dupes(Leg.entry_id),
        "queue_entries(call, visit)": dupes(QueueEntry.call_sid, QueueEntry.visit),
        "webhook_events(call, step)": dupes(WebhookEvent.call_sid, WebhookEvent.step),
    }


# ---- the comparison ------------------------------------------------------------------------

def reconcile(session: Session, truth: Iterable[CallTruth], *, questions: Sequence[str] = QUESTIONS,
              languages: Mapping[str, str] | None = None) -> Reconciliation:
    """Compare the stored calls, legs and answers of the truth's calls with the truth."""
    truth = list(truth)
    languages = LANGUAGES if languages is None else languages
    out: list[Mismatch] = []
    sids = [c.call_sid for c in truth]
    calls, entries, legs, answers = _load(session, sids)
    stored: dict[str, Tally] = defaultdict(Tally)
    unjoined: list[str] = []

    for call in truth:
        sid = call.call_sid

        def miss(scope, key, what, expected, got):
            out.append(Mismatch(scope, key, what, expected, got))

        for err in call.app_errors:
            miss("call", sid, "application error", None, f"{err.code} {err.url} {err.detail}")
        row = calls.get(sid)
        if row is None:
            miss("call", sid, "exists", True, False)
            continue
        if row.from_number != call.from_number:
            miss("call", sid, "from", call.from_number, row.from_number)
        if row.status != "completed":
            miss("call", sid, "status", "completed", row.status)
        if row.duration not in whole_seconds(call.duration_s, round):
            miss("call", sid, "duration (CallDuration)", call.duration_s, row.duration)
        start = dt.datetime.fromisoformat(call.start)
        if row.time_source != "twilio" or abs((row.started_at - start).total_seconds()) > START_SLACK_S:
            miss("call", sid, "start (Timestamp - CallDuration)", call.start,
                 f"{row.started_at.isoformat()} ({row.time_source})")
        want_lang = languages.get(call.language) if call.language else None
        if call.language and row.language != want_lang:
            miss("call", sid, "language", want_lang, row.language)
        visits = entries.get(sid, [])
        if len(visits) == len(call.queues) + 1 and never_joined(visits[-1]) and call.end_reason == "caller-hangup":
            unjoined.append(sid)
            visits = visits[:-1]
        if [e.queue for e in visits] != call.queues:
            miss("call", sid, "queues visited", call.queues, [e.queue for e in visits])
        abandoned = any(e.state == "abandoned" for e in visits)
        if abandoned != call.abandoned_in_queue:
            miss("call", sid, "abandoned in queue", call.abandoned_in_queue, abandoned)

        stored_legs = legs.get(sid, [])
        if len(stored_legs) != len(call.legs):
            miss("call", sid, "agent legs", [leg.agent_id for leg in call.legs], [leg.agent_id for leg in stored_legs])
        for i, leg in enumerate(stored_legs):
            tally = stored[leg.agent_id]
            tally.legs += 1
            tally.handled += bool(leg.bridged)
            got_answers = answers.get(leg.id, [])
            tally.surveyed_legs += bool(got_answers)
            tally.answers.update((a.question, a.value) for a in got_answers)
            if i >= len(call.legs):
                continue
            _compare_leg(miss, f"{sid}#leg{i + 1}", call.legs[i], leg, got_answers, questions)

    expected = expected_tallies(truth, questions)
    for agent in sorted(set(expected) | set(stored)):
        want, got = expected.get(agent, Tally()), stored.get(agent, Tally())
        for name in ("legs", "handled", "surveyed_legs"):
            if getattr(want, name) != getattr(got, name):
                out.append(Mismatch("agent", agent, name, getattr(want, name), getattr(got, name)))
        if want.answers != got.answers:
            keys = sorted(set(want.answers) | set(got.answers), key=str)
            out.append(Mismatch("agent", agent, "answers (question=value: n)",
                                {f"{q}={v}": want.answers[(q, v)] for q, v in keys if want.answers[(q, v)] != got.answers[(q, v)]},
                                {f"{q}={v}": got.answers[(q, v)] for q, v in keys if want.answers[(q, v)] != got.answers[(q, v)]}))

    unjoined_set = set(unjoined)
    joined = {sid: (v[:-1] if sid in unjoined_set else v) for sid, v in entries.items()}
    totals = _totals(truth, calls, joined, legs, answers, expected, stored)
    for name, (want, got) in totals.items():
        if want != got:
            out.append(Mismatch("total", name, "count", want, got))
    duplicates = duplicate_rows(session)
    for table, n in duplicates.items():
        if n:
            out.append(Mismatch("rows", table, "duplicated keys", 0, n))
    extra = (session.scalar(select(func.count()).select_from(Call)) or 0) - len(calls)
    return Reconciliation(calls=len(truth), mismatches=out, expected=expected, stored=dict(stored),
                          totals=totals, duplicates=duplicates, extra_calls=extra, unjoined_visits=unjoined)


def _compare_leg(miss, key: str, want: LegTruth, leg: Leg, got_answers: list[SurveyAnswer],
                 questions: Sequence[str]) -> None:
    if leg.agent_id != want.agent_id:
        miss("leg", key, "agent", want.agent_id, leg.agent_id)
    if want.queue is not None and leg.queue != want.queue:
        miss("leg", key, "queue", want.queue, leg.queue)
    if leg.queue_seconds not in whole_seconds(want.queue_wait_s, int):
        miss("leg", key, "queue wait (QueueTime)", want.queue_wait_s, leg.queue_seconds)
    if bridged(want):
        if leg.bridged is not True:
            miss("leg", key, "bridged", True, leg.bridged)
        if leg.dial_status != "completed":
            miss("leg", key, "DialCallStatus", "completed", leg.dial_status)
        if leg.talk_seconds not in whole_seconds(want.talk_s, round):
            miss("leg", key, "talk seconds (DialCallDuration)", want.talk_s, leg.talk_seconds)
        ended_by = "agent" if agent_ended(want) else "caller"
        if leg.ended_by != ended_by:
            miss("leg", key, "hung up by", ended_by, leg.ended_by)
    else:
        if leg.bridged:
            miss("leg", key, "bridged", False, leg.bridged)
        # The caller hung up while it rang: Twilio requests no Dial action, the call's end closes the leg.
        allowed = {"canceled", "unknown"} if want.dial_status == "canceled" else {want.dial_status}
        if leg.dial_status not in allowed:
            miss("leg", key, "DialCallStatus", want.dial_status, leg.dial_status)
    offered = leg.survey_state in ("offered", "finished")   # the in-call survey ("follow-up" is later)
    if offered != agent_ended(want):
        miss("leg", key, "survey offered", agent_ended(want), leg.survey_state)

    expect = expected_answers(want, questions)
    got = [(a.question, a.value, a.status) for a in got_answers]
    order = {q: i for i, q in enumerate(questions)}
    if sorted(got, key=lambda a: order.get(a[0], 99)) != expect:
        miss("answer", key, "survey answers (question, value, status)", expect, got)
    for a in got_answers:
        if a.agent_id != leg.agent_id or a.call_sid != leg.call_sid:
            miss("answer", f"{key}/{a.question}", "attributed to (agent, call)", (leg.agent_id, leg.call_sid),
                 (a.agent_id, a.call_sid))


def _totals(truth, calls, entries, legs, answers, expected, stored) -> dict[str, tuple[int, int]]:
    all_legs = [leg for ls in legs.values() for leg in ls]
    return {
        "calls": (len(truth), len(calls)),
        "queue visits": (sum(len(c.queues) for c in truth), sum(len(v) for v in entries.values())),
        "abandoned in queue": (sum(c.abandoned_in_queue for c in truth),
                               sum(any(e.state == "abandoned" for e in v) for v in entries.values())),
        "agent legs": (sum(len(c.legs) for c in truth), len(all_legs)),
        "bridged legs": (sum(bridged(leg) for c in truth for leg in c.legs), sum(bool(leg.bridged) for leg in all_legs)),
        "agent-ended legs": (sum(agent_ended(leg) for c in truth for leg in c.legs),
                             sum(leg.ended_by == "agent" for leg in all_legs)),
        "survey answers": (sum(sum(t.answers.values()) for t in expected.values()),
                           sum(len(v) for v in answers.values())),
        "surveyed legs": (sum(t.surveyed_legs for t in expected.values()), sum(bool(v) for v in answers.values())),
    }


def load_truth(path) -> list[CallTruth]:
    """Read a ``--truth`` JSON lines file back into ``CallTruth`` records."""
    import json

    from emulator.truth import AppError
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            data = json.loads(line)
            data["legs"] = [LegTruth(**leg) for leg in data.get("legs", [])]
            data["app_errors"] = [AppError(**e) for e in data.get("app_errors", [])]
            out.append(CallTruth(**data))
    return out
