"""JSON API for call-back tasks (token authentication), for outside CRMs: list, read, change,
and "call back" (``POST /api/callbacks/<id>/call``: ``callbacks.calling.call_back``).

The same use cases as the dashboard's worklist and ``flask callbacks``
(``callbacks.worklist.worklist``, ``callbacks.tasks.change_state`` and ``reassign``), so a
change made here is checked, and audit-logged (actor ``token:<name>``), alike.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from callbacks.calling import call_back
from callbacks.errors import CallbackError
from callbacks.tasks import change_state, get_task, reassign
from callbacks.worklist import STATE_FILTERS, Filters, task_json, worklist
from store.callbacks import REASONS
from webhooks.security import api_error, require_token

bp = Blueprint("callbacks_api", __name__, url_prefix="/api/callbacks")
MAX_PER_PAGE = 100


class BadRequest(ValueError):
    pass


@bp.errorhandler(BadRequest)
def _bad(exc):
    return api_error(400, str(exc))


@bp.errorhandler(CallbackError)
def _refused(exc):
    return api_error(404 if exc.key == "no_task" else 400, str(exc))


def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}")
    return value


def _whole(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from 1 to {high}")
    return int(raw)


@bp.get("")
@require_token("supervisor", "admin")
def index():
    owner = _whole("owner", 0, 2**31 - 1) or None
    overdue = _choice("overdue", ("true", "false")) == "true"
    f = Filters(scope="mine" if owner else "all", user_id=owner, state=_choice("state", STATE_FILTERS) or "todo",
                reason=_choice("reason", REASONS), team=request.args.get("team") or None,
                agent_id=request.args.get("agent") or None, overdue=overdue)
    page, per_page = _whole("page", 1, 10**6), _whole("per_page", 25, MAX_PER_PAGE)
    with current_app.extensions["db"].session() as s:
        result = worklist(s, f, page, per_page)
        return jsonify({"tasks": [task_json(t) for t in result.tasks], "total": result.total, "page": result.page,
                        "pages": result.pages, "overdue": result.overdue})


def _task_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise CallbackError("no_task", value=raw[:20])
    return int(raw)


@bp.get("/<task_id>")
@require_token("supervisor", "admin")
def show(task_id):
    with current_app.extensions["db"].session() as s:
        return jsonify(task_json(get_task(s, _task_id(task_id))))


@bp.patch("/<task_id>")
@require_token("supervisor", "admin")
def update(task_id):
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not data or set(data) - {"state", "note", "owner_id"}:
        raise BadRequest("the body must be a JSON object with any of state, note, owner_id")
    state, note, owner = data.get("state"), data.get("note"), data.get("owner_id")
    if (state is not None and not isinstance(state, str)) or (note is not None and not isinstance(note, str)) \
            or (owner is not None and (not isinstance(owner, int) or isinstance(owner, bool))):
        raise BadRequest("state and note are strings, owner_id a whole number")
    if note is not None and state is None:
        raise BadRequest("a note goes with a state change")
    actor = f"token:{g.api_token['name']}"
    with current_app.extensions["db"].session() as s:
        task = get_task(s, _task_id(task_id))
        if owner is not None:
            reassign(s, task.id, owner, actor=actor)
        if state is not None:
            change_state(s, task.id, state, actor=actor, note=note)
        return jsonify(task_json(task))


@bp.post("/<task_id>/call")
@require_token("supervisor", "admin")
def call(task_id):
    """Ring a supervisor (``user_id``, default the task's owner), then connect the caller:
    202 with the attempt; ``started`` false when an attempt was already under way (nothing
    new is rung)."""
    data = request.get_json(silent=True) if request.data else {}
    if not isinstance(data, dict) or set(data) - {"user_id"}:
        raise BadRequest("the body, if any, must be a JSON object with user_id")
    user_id = data.get("user_id")
    if user_id is not None and (not isinstance(user_id, int) or isinstance(user_id, bool)):
        raise BadRequest("user_id is a whole number")
    with current_app.extensions["db"].session() as s:
        task = get_task(s, _task_id(task_id))
        if user_id is None and task.owner_id is None:
            raise BadRequest("the task is unassigned: name the supervisor to ring (user_id)")
        attempt, started = call_back(s, task.id, user_id=task.owner_id if user_id is None else user_id,
                                     actor=f"token:{g.api_token['name']}",
                                     ring_job=current_app.extensions["callback_ring_job"])
        response = jsonify({"started": started, "attempt": attempt.to_dict(), "task_id": task.id})
    response.status_code = 202
    return response
