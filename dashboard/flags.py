"""The flag review queue: a supervisor confirms or dismisses each flag with a comment.

The decision itself (state change and audit entry) is ``scoring.outcomes.review.review_flag``'s;
this page only collects it.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from sqlalchemy import func, select

from dashboard import queries
from dashboard.auth import guard
from dashboard.i18n import t
from dashboard.sources import optional
from dashboard.web import actor, choice_arg, db, or_404, render, safe_path
from store.flags import KINDS, STATES, Flag

bp = Blueprint("flags", __name__)
bp.before_request(guard("flags"))

REVIEW = "scoring.outcomes.review.review_flag"
PAGE_SIZE = 100
COMMENT_MAX = 2000   # the form's maxlength


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
                  counts=counts, can_review=optional(REVIEW) is not None, missing=[] if optional(REVIEW) else [REVIEW])


@bp.post("/flags/<id:flag_id>/review")
def review(flag_id):
    review_flag = optional(REVIEW)
    if review_flag is None:
        flash(t("unavailable", what=REVIEW), "error")
        return redirect(url_for("flags.index"))
    decision = request.form.get("decision")
    comment = (request.form.get("comment") or "").strip()
    if decision not in ("confirm", "dismiss"):
        flash(t("bad_decision"), "error")
    elif not comment:
        flash(t("comment_required"), "error")
    elif len(comment) > COMMENT_MAX:
        flash(t("comment_long", n=COMMENT_MAX), "error")
    else:
        try:
            with db().session() as s:
                or_404(s.get(Flag, flag_id))
                flag = review_flag(s, flag_id, actor(), decision, comment)
                state = flag.state if flag is not None else decision
        except (ValueError, LookupError) as exc:
            flash(t("review_refused", id=flag_id, detail=str(exc)), "error")
        else:
            flash(t("review_saved", id=flag_id, state=t(f"state_{state}")), "ok")
    return redirect(safe_path(request.form.get("back")) or url_for("flags.index"))
