"""One survey step as a pure decision: what to record and where the caller goes next."""
from __future__ import annotations

from dataclasses import dataclass

from ivr.choices import GaveUp, Retry, resolve_digits
from survey.definition import Survey


@dataclass(frozen=True)
class Record:
    """An answer to store now: a value, or why there is none."""
    question: str
    value: int | None
    status: str  # answered | no-input | invalid


@dataclass(frozen=True)
class SurveyStep:
    record: Record | None
    reprompt: str | None = None      # "invalid" / "no-input": ask the same question again
    next_attempt: int = 1
    next_index: int | None = None    # the question to ask next, if any
    transfer: bool = False           # back to an agent (the caller asked for more help)
    words: bool = False              # ask for the caller's own words before ``next_index``

    @property
    def finished(self) -> bool:
        return self.reprompt is None and self.next_index is None and not self.transfer


def step(survey: Survey, index: int, digits: str | None, attempt: int) -> SurveyStep:
    question = survey.question(index)
    decision = resolve_digits(digits, {str(v) for v in question.valid}, attempt, survey.max_attempts)
    if isinstance(decision, Retry):
        return SurveyStep(None, reprompt=decision.reason, next_attempt=decision.next_attempt, next_index=index)
    nxt = index + 1 if index + 1 < len(survey.questions) else None
    if isinstance(decision, GaveUp):
        return SurveyStep(Record(question.key, None, decision.reason), next_index=nxt)
    value = int(decision.value)
    if question.transfer_on is not None and value == question.transfer_on:
        return SurveyStep(Record(question.key, value, "answered"), transfer=True)
    return SurveyStep(Record(question.key, value, "answered"), next_index=nxt,
                      words=survey.asks_words(question.key, value))
