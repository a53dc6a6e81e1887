"""JSON API: one call with its legs, survey answers (question, value, channel), follow-ups and
call-back tasks."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from callbacks.worklist import task_json
from store.callbacks import CallbackTask
from survey.call_record import call_record
from webhooks.security import api_error, require_token

bp = Blueprint("calls_api", __name__, url_prefix="/api/calls")


@bp.get("/<call_sid>")
@require_token("supervisor", "admin")
def show(call_sid):
    if len(call_sid) > 64:
        return api_error(400, "CallSid is at most 64 characters")
    with current_app.extensions["db"].session() as s:
        record = call_record(s, call_sid)
        if record is not None:
            tasks = {t.leg_id: task_json(t)
                     for t in s.scalars(select(CallbackTask).where(CallbackTask.call_sid == call_sid))}
            for leg in record["legs"]:
                leg["callback_task"] = tasks.get(leg["id"])
    return jsonify(record) if record is not None else api_error(404, f"no call {call_sid!r}")
