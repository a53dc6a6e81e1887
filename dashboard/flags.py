"""The flag review queue: a supervisor confirms or dismisses each flag with a comment.

The decision itself (state change and audit entry) is ``scoring.review.review_flag``'s;
this page only collects it.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from sqlalchemy import func, select

from dashboard.auth import guard
from dashboard.i18n import t
from dashboard.sources import optional
from dashboard.web import actor, db, render, safe_path
from store.flags import KINDS, STATES, Flag

bp = Blueprint("flags", __name__)
bp.before_request(guard("flags"))

REVIEW = "scoring.review.review_flag"
PAGE_SIZE = 100


@bp.get("/flags")
def index():
    state = request.args.get("state", "open")
    state = state if state in STATES or state == "all" else "open"
    kind = request.args.get("kind") or None
    agent_id = request.args.get("agent") or None
    query = select(Flag)
    if state != "all":
        query = query.where(Flag.state == state)
    if kind in KINDS:
        query = query.where(Flag.kind == kind)
    if agent_id:
        query = query.where(Flag.agent_id == agent_id)
    with db().session() as s:
        rows = list(s.scalars(query.order_by(Flag.occurred_at.desc(), Flag.id.desc()).limit(PAGE_SIZE)))
        counts = dict(s.execute(select(Flag.state, func.count()).group_by(Flag.state)).all())
    return render("flags.html", rows=rows, state=state, kind=kind, kinds=KINDS, states=STATES, agent_id=agent_id,
                  counts=counts, can_review=optional(REVIEW) is not None, missing=[] if optional(REVIEW) else [REVIEW])


@bp.post("/flags/<int:flag_id>/review")
def review(flag_id):
    review_flag = optional(REVIEW)
    if review_flag is None:
        flash(t("unavailable", what=REVIEW), "error")
        return redirect(url_for("flags.index"))
    decision = request.form.get("decision")
    comment = (request.form.get("comment") or "").strip()
    if decision not in ("confirm", "dismiss"):
        flash("decision must be confirm or dismiss", "error")
    elif not comment:
        flash(t("comment_required"), "error")
    else:
        try:
            with db().session() as s:
                flag = review_flag(s, flag_id, actor(), decision, comment)
                state = flag.state if flag is not None else decision
        except (ValueError, LookupError) as exc:
            flash(str(exc), "error")
        else:
            flash(t("review_saved", id=flag_id, state=t(f"state_{state}")), "ok")
    return redirect(safe_path(request.form.get("back")) or url_for("flags.index"))
