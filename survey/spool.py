"""Survey answers given while the database was unreachable, and how they are applied later.

Twilio does not retry a Gather action, and a non-2xx makes the caller hear "an application
error has occurred", so ``survey.keypad.spool_answer`` keeps the answer in the spool
(``store.spool``: the local folder, else a Redis stream, else the log) before we answer 200.
Once the database answers again, ``AnswerSpool.replay`` stores each answer through
``survey.answers.record_answer``, once per ``(leg_id, question)``, so a replay that runs
twice, or an answer that also reached the database another way, is counted once. The same
spool holds the other webhooks kept during an outage (``kind`` ``webhook``); those are
applied by ``others``, the HTTP layer's replay of the webhook itself.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Callable

from store.db import Database
from store.spool import Spool
from survey.answers import REFUSED, record_answer
from survey.flow import Record

ANSWER = "answer"


class AnswerSpool(Spool):
    def replay(self, db: Database, others: Callable[[dict], str] | None = None, seconds: float | None = None) -> int:
        """Apply the kept records (for ``seconds`` at most); returns how many were applied
        (duplicates included)."""
        return super().replay(partial(apply, db, others), seconds)

    def replay_if_pending(self, db: Database, others: Callable[[dict], str] | None = None,
                          seconds: float | None = None) -> int:
        return super().replay_if_pending(partial(apply, db, others), seconds)


def apply(db: Database, others: Callable[[dict], str] | None, rec: dict) -> str:
    """One kept record: an answer is stored here; anything else goes to ``others``."""
    if rec.get("kind", ANSWER) != ANSWER:
        if others is None:
            raise RuntimeError(f"a kept {rec.get('kind')!r} record needs the web app to be applied")
        return others(rec)
    try:
        with db.session() as s:
            outcome, _ = record_answer(
                s, leg_id=int(rec["leg_id"]), call_sid=str(rec["call_sid"]),
                record=Record(rec["question"], rec["value"], rec["status"]),
                finish=bool(rec.get("finished")), version=rec["survey_version"],
                channel=rec.get("channel", "call"), at=datetime.fromisoformat(rec["spooled_at"]))
    except (ValueError, KeyError, TypeError):
        return REFUSED
    return outcome
