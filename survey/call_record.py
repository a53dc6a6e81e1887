"""Everything the survey knows about one call: its legs, every answer with its channel,
each leg's follow-up and the caller's own words. One function, for the JSON API (``GET /api/calls/<CallSid>``) and any
other view that needs it."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.base import utcnow
from store.calls import Call, Leg, SurveyAnswer
from store.followups import Followup
from survey import words


def _at(value):
    return value.isoformat() if value is not None else None


def call_record(session: Session, call_sid: str) -> dict | None:
    """The call as a JSON-ready dict, or None when there is no such call. No caller number:
    the follow-up says whether one was asked, not whom. The caller's words come with their
    text: the only reader is the supervisors' API (``GET /api/calls/<CallSid>``)."""
    call = session.get(Call, call_sid)
    if call is None:
        return None
    legs = list(session.scalars(select(Leg).where(Leg.call_sid == call_sid).order_by(Leg.seq)))
    ids = [leg.id for leg in legs]
    answers: dict[int, list] = {}
    for a in session.scalars(select(SurveyAnswer).where(SurveyAnswer.leg_id.in_(ids)).order_by(SurveyAnswer.id)):
        answers.setdefault(a.leg_id, []).append({
            "question": a.question, "value": a.value, "status": a.status, "channel": a.channel,
            "survey_version": a.survey_version, "answered_at": _at(a.created_at)})
    follow = {f.leg_id: f.to_dict() for f in session.scalars(select(Followup).where(Followup.leg_id.in_(ids)))}
    now, said = utcnow(), words.of_legs(session, ids)
    return {
        "call_sid": call.sid, "started_at": _at(call.started_at), "ended_at": _at(call.ended_at),
        "status": call.status, "language": call.language, "after_hours": call.after_hours,
        "legs": [{"id": leg.id, "seq": leg.seq, "agent_id": leg.agent_id, "queue": leg.queue,
                  "bridged": leg.bridged, "talk_seconds": leg.talk_seconds, "ended_by": leg.ended_by,
                  "survey_state": leg.survey_state, "answers": answers.get(leg.id, []),
                  "followup": follow.get(leg.id),
                  "words": [words.to_dict(r, now, with_text=True) for r in said.get(leg.id, [])]} for leg in legs],
    }
