"""Which legs owe their caller a call back, read from what the record already holds.

Three triggers, whatever channel the answer came by (the call, an SMS or a call-back
follow-up): "no" to the adequacy question, a rating of 1–2, and "speak to an agent again"
(the transfer key) followed by the caller hanging up in the queue before any later agent
answered. Reading them from the stored answers keeps the survey webhook's hot path as it is
(one statement on PostgreSQL); the worker sweeps on a clock instead.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from store.callbacks import CallbackTask, TaskLeg
from store.calls import Call, Leg, QueueEntry, SurveyAnswer

# The survey's questions and keys (survey/survey.toml); the scorecards read the same ones.
ADEQUACY, ADEQUACY_NO = "adequate", 2
RATING, LOW_RATINGS = "satisfaction", (1, 2)
TRANSFER, TRANSFER_KEY = "anything_else", 1

ORDER = ("adequacy-no", "low-rating", "abandoned-after-transfer")
"""When one leg has several triggers, the task names the first in this order."""


def triggered_legs(session: Session, since: datetime) -> list[tuple[int, str]]:
    """``(leg_id, reason)`` for legs of calls started since ``since`` that have a trigger and
    neither a task nor a place on one yet, oldest first, one reason per leg."""
    answered = and_(SurveyAnswer.status == "answered", Call.started_at >= since,
                    ~exists().where(CallbackTask.leg_id == SurveyAnswer.leg_id),
                    ~exists().where(TaskLeg.leg_id == SurveyAnswer.leg_id))
    base = select(SurveyAnswer.leg_id).join(Call, Call.sid == SurveyAnswer.call_sid)
    adequacy = base.add_columns(literal(0).label("rank")).where(
        answered, SurveyAnswer.question == ADEQUACY, SurveyAnswer.value == ADEQUACY_NO)
    rating = base.add_columns(literal(1).label("rank")).where(
        answered, SurveyAnswer.question == RATING, SurveyAnswer.value.in_(LOW_RATINGS))
    leg, entry, later_entry, later_leg = aliased(Leg), aliased(QueueEntry), aliased(QueueEntry), aliased(Leg)
    abandoned = (base.add_columns(literal(2).label("rank"))
                 .join(leg, leg.id == SurveyAnswer.leg_id).join(entry, entry.id == leg.entry_id)
                 .where(answered, SurveyAnswer.question == TRANSFER, SurveyAnswer.value == TRANSFER_KEY,
                        exists().where(later_entry.call_sid == leg.call_sid, later_entry.visit > entry.visit,
                                       later_entry.state == "abandoned"),
                        ~exists().where(later_leg.call_sid == leg.call_sid, later_leg.seq > leg.seq,
                                        later_leg.bridged.is_(True))))
    rows = session.execute(union_all(adequacy, rating, abandoned)).all()
    best: dict[int, int] = {}
    for leg_id, rank in rows:
        best[leg_id] = min(rank, best.get(leg_id, rank))
    return [(leg_id, ORDER[rank]) for leg_id, rank in sorted(best.items())]
