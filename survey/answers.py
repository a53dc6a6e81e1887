"""Recording a survey answer: the one function every path goes through.

The in-call keypad (fast and full webhook paths), the answer spool replayed after a
database outage, and the follow-up channels all call ``record_answer``. It attributes the
answer to the agent of the leg it judges, keeps the channel it came by, stores it once per
``(leg, question)`` whatever retries and duplicates do, and marks the leg's survey finished
when the answer ends it.
"""
from __future__ import annotations

from datetime import datetime

from store.answers import DUPLICATE, REFUSED, STORED, write_answer
from survey.flow import Record

__all__ = ["CHANNELS", "DUPLICATE", "REFUSED", "STORED", "record_answer"]

CHANNELS = ("call", "sms", "callback")
"""``call``: the keypad survey after the agent hung up; ``sms``: a follow-up reply by text;
``callback``: a follow-up call-back that ran the survey."""


def record_answer(bind, *, leg_id: int, call_sid: str, record: Record | None, finish: bool, version: str,
                  channel: str = "call", at: datetime | None = None, event: dict | None = None
                  ) -> tuple[str, str | None]:
    """Store ``record`` (None: nothing to store, e.g. a re-prompt) for the leg; see
    ``store.answers.write_answer`` for ``bind``, ``event`` and the ``(outcome, twiml)`` result.

    ``version`` is the survey version asked (the leg's own, once set, wins); ``at`` when the
    answer was given (default now: a spooled answer keeps the time it was spooled)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    return write_answer(bind, leg_id=leg_id, call_sid=call_sid,
                        question=record.question if record else None, value=record.value if record else None,
                        status=record.status if record else None, channel=channel, finish=finish,
                        version=version, at=at, event=event)
