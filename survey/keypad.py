"""The in-call survey's keypad steps: decide, then record through ``record_answer``.

A keypress arrives on one of three paths, and all three decide with ``decide`` and store
with ``survey.answers.record_answer``:
- ``record_keyed``: the usual step, one write with the webhook's step record and no read
  before it (the TwiML is known from the URL and the definition in memory);
- ``take_answer``: the full step in an open transaction (a transfer back to an agent, or a
  URL without its language);
- ``spool_answer``: the database is down; the answer waits in the spool (``survey.spool``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from store.calls import Leg
from store.spool import SpoolLost
from survey.answers import REFUSED, record_answer
from survey.definition import Survey
from survey.flow import SurveyStep, step
from survey.spool import AnswerSpool


class NoSurveyHere(LookupError):
    """No survey runs on that leg of that call, or the question does not exist."""


@dataclass(frozen=True)
class Keypress:
    """A Gather ``action`` of the survey: the URL names leg, question and attempt."""
    leg_id: int
    index: int
    attempt: int
    digits: str | None


def decide(survey: Survey, press: Keypress) -> SurveyStep:
    if press.index >= len(survey.questions):
        raise NoSurveyHere("no such question")
    return step(survey, press.index, press.digits, press.attempt)


def _ends_survey(decision: SurveyStep) -> bool:
    return decision.finished or decision.transfer


def record_keyed(engine, survey: Survey, press: Keypress, decision: SurveyStep, *, call_sid: str,
                 **event) -> tuple[str, str | None]:
    """The usual step: the answer with its webhook ``event`` (step, endpoint, params, twiml),
    exactly once; see ``record_answer`` for the result."""
    return record_answer(engine, leg_id=press.leg_id, call_sid=call_sid, record=decision.record,
                         finish=_ends_survey(decision), version=survey.version, event=event)


@dataclass(frozen=True)
class Taken:
    decision: SurveyStep
    language: str | None     # the leg's language


def take_answer(session: Session, call_sid: str, press: Keypress, survey: Survey) -> Taken:
    """The full step in the caller's transaction; a transfer back ends the survey here and the
    caller goes back to the queue (``callflow.journey.transfer_back``)."""
    decision = decide(survey, press)
    leg = session.get(Leg, press.leg_id)
    outcome, _ = record_answer(session, leg_id=press.leg_id, call_sid=call_sid, record=decision.record,
                               finish=_ends_survey(decision), version=survey.version)
    if leg is None or outcome == REFUSED:
        raise NoSurveyHere("no survey running for this leg")
    return Taken(decision, leg.language)


def spool_answer(spool: AnswerSpool, survey: Survey, call_sid: str, press: Keypress) -> SurveyStep:
    """The database is down: keep the answer in the spool (replayed through ``record_answer``)
    and let the caller go on as if it was stored (``store.spool.SpoolLost``: only the log has it)."""
    decision = decide(survey, press)
    if decision.record:
        with contextlib.suppress(SpoolLost):   # the log line carries it for ``flask spool replay-log``
            spool.append({"kind": "answer", "leg_id": press.leg_id, "call_sid": call_sid,
                          "survey_version": survey.version, "question": decision.record.question,
                          "value": decision.record.value, "status": decision.record.status, "channel": "call",
                          "finished": _ends_survey(decision)})
    return decision
