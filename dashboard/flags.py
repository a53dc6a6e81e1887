"""The flag review queue: a supervisor confirms or dismisses each flag with a comment.

The decision itself (its checks, the state change and the audit entry) is
``scoring.outcomes.review.review_flag``'s, as for ``flask flags review``; this page collects it
and words a refusal in the reader's language.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from sqlalchemy import func, select

from dashboard import queries
from dashboard.auth import guard
from dashboard.i18n import refusal, t
from dashboard.web import actor, choice_arg, db, or_404, render, safe_path
from scoring.outcomes.review import ReviewError, review_flag
from store.flags import KINDS, STATES, Flag

bp = Blueprint("flags", __name__)
bp.before_request(guard("flags"))

PAGE_SIZE = 100


@bp.get("/flags")
def index():
    state = choice_arg("state", (*STATES, "all"), "state", default="open")
    kind = choice_arg("kind", KINDS, "kind")
    query = select(Flag)
    if state != "all":
        query = query.where(Flag.state == state)
    if kind:
        query = query.where(Flag.kind == kind)
    with db().session() as s:
        agent_id = choice_arg("agent", queries.agent_ids(s), "agent")
        if agent_id:
            query = query.where(Flag.agent_id == agent_id)
        rows = list(s.scalars(query.order_by(Flag.occurred_at.desc(), Flag.id.desc()).limit(PAGE_SIZE)))
        counts = dict(s.execute(select(Flag.state, func.count()).group_by(Flag.state)).all())
    return render("flags.html", rows=rows, state=state, kind=kind, kinds=KINDS, states=STATES, agent_id=agent_id,
                  counts=counts)


@bp.post("/flags/<id:flag_id>/review")
def review(flag_id):
    try:
        with db().session() as s:
            or_404(s.get(Flag, flag_id))
            state = review_flag(s, flag_id, actor(), request.form.get("decision") or "",
                                request.form.get("comment") or "").state
    except ReviewError as exc:
        if exc.key in ("bad_decision", "comment_required", "comment_long"):
            flash(refusal(exc), "error")
        else:
            flash(t("review_refused", id=flag_id, detail=str(exc)), "error")
    else:
        flash(t("review_saved", id=flag_id, state=t(f"state_{state}")), "ok")
    return redirect(safe_path(request.form.get("back")) or url_for("flags.index"))
