"""The review queue: agent-level findings (agent × kind × month), a page at a time, each with
its evidence and the calls behind it; one or many confirmed or dismissed with one comment;
above them, the agents' open disputes, each beside its evidence, to accept or reject
(``scoring.disputes``).

What is listed is ``scoring.review_queue.list_findings``'s (``flask flags list`` reads the
same); every decision (state change and audit entry) is ``scoring.review.review_flag``'s.
"""
from __future__ import annotations

import dataclasses
import math
import re

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from dashboard import queries, svg
from dashboard.auth import guard
from dashboard.csv_out import csv_response, refused_filter
from dashboard.i18n import N_, label, refusal, shown
from dashboard.reasons import confirm_cost_text, flag_reason
from dashboard.supervise import handle_time_chart
from dashboard.web import actor, choice_arg, db, or_404, render, safe_path
from scoring.disputes import DisputeError, decide_dispute, open_disputes
from scoring.outcomes.flags import AGENT_KINDS
from scoring.outcomes.queue import QueueFilter, finding_periods, list_findings, period_range
from scoring.outcomes.review import ReviewError, check_review, review_flag, review_flags
from scoring.outcomes.rules import load_rules
from scoring.payroll.confirm_cost import confirm_costs
from store.agents import Agent
from store.disputes import Dispute
from store.flags import STATES, Flag
from store.payroll import PayPeriod

bp = Blueprint("flags", __name__)
bp.before_request(guard("flags"))

PAGE_SIZE = 25
SAMPLE = 5           # calls shown per finding in the queue; the rest are on its page
COMMENT_MAX = 2000   # the form's maxlength
FILTERS = ("state", "kind", "team", "agent", "period")
ID = re.compile(r"[1-9][0-9]{0,9}")   # a flag id as the page writes it


def _options() -> dict:
    with db().session() as s:
        agents = list(s.execute(select(Agent.id, Agent.name, Agent.team).order_by(Agent.id)).all())
        locked = set(s.scalars(select(PayPeriod.key).where(PayPeriod.state == "locked")))
        return {"agents": agents, "teams": queries.teams(s), "periods": finding_periods(s), "kinds": AGENT_KINDS,
                "states": STATES, "locked": locked}


def _allowed(options: dict) -> dict:
    return {"state": (*STATES, "all"), "kind": AGENT_KINDS, "team": options["teams"],
            "agent": [a.id for a in options["agents"]], "period": options["periods"]}


LABELS = {"state": N_("State"), "kind": N_("Kind"), "team": N_("Team"), "agent": N_("Agent"), "period": N_("Period")}


def _queue_filter(chosen: dict) -> QueueFilter:
    state = chosen["state"] or "open"
    return QueueFilter(state=None if state == "all" else state, kind=chosen["kind"], agent_id=chosen["agent"],
                       team=chosen["team"], period=chosen["period"])


def _page_number() -> int:
    raw = (request.args.get("page") or "").strip()
    if not raw:
        return 1
    if raw.isdecimal() and 0 < int(raw) < 10**6:
        return int(raw)
    flash(gettext("“%(value)s” is not a page number; showing the first page.", value=shown(raw)), "error")
    return 1


def _selection() -> tuple[dict, dict, QueueFilter]:
    """The filter choices, what the query string chose (a value that is not a choice is dropped
    and the page says so) and the queue's filter."""
    options = _options()
    chosen = {name: choice_arg(name, allowed, LABELS[name], default="open" if name == "state" else None)
              for name, allowed in _allowed(options).items()}
    return options, chosen, _queue_filter(chosen)


@bp.get("/flags")
def index():
    """The queue, a page at a time."""
    options, chosen, filters = _selection()
    ctx = {"chosen": chosen, **options}
    page_no = _page_number()
    with db().session() as s:
        page = list_findings(s, filters, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        if page_no > 1 and not page.items and page.total:
            page_no = math.ceil(page.total / PAGE_SIZE)
            page = list_findings(s, filters, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        counts = {st: list_findings(s, dataclasses.replace(filters, state=st), limit=1).total
                  for st in STATES}
        samples = {f.id: (f.evidence or {}).get("leg_ids", [])[:SAMPLE] for f in page.items}
        legs = queries.legs_by_id(s, [i for ids in samples.values() for i in ids])
        costs = _costs(s, [f.id for f in page.items if f.state != "confirmed"])
        disputes = [(d, s.get(Flag, d.flag_id)) for d in open_disputes(s)]
    args = {k: v for k, v in ctx["chosen"].items() if v}
    return render("flags.html", page=page, page_no=page_no, pages=max(1, math.ceil(page.total / PAGE_SIZE)),
                  samples={fid: [legs[i] for i in ids if i in legs] for fid, ids in samples.items()},
                  counts=counts, args=args, costs=costs, disputes=disputes, **ctx)


def _costs(s, flag_ids: list[int]) -> dict[int, str]:
    """What confirming each would do to pay, in the reader's language (the scorecards as the
    dashboard reads them: the daily rollup)."""
    return {i: confirm_cost_text(cost) for i, cost in confirm_costs(s, flag_ids, rollup=True).items()}


@bp.post("/flags/disputes/<id:dispute_id>/decide")
def decide(dispute_id):
    """Accept (the flag dismissed, the pay recomputed) or reject an agent's dispute, with a comment."""
    try:
        with db().session() as s:
            or_404(s.get(Dispute, dispute_id))
            decide_dispute(s, dispute_id, actor=actor(), decision=request.form.get("decision", ""),
                           comment=request.form.get("comment", ""))
    except (DisputeError, ReviewError) as exc:
        flash(refusal(exc), "error")
    else:
        flash(gettext("Dispute %(id)s answered; the agent sees your comment.", id=dispute_id), "ok")
    return redirect(url_for("flags.index") + "#disputes")


@bp.get("/flags.csv")
def download():
    """The queue as shown (same filters and order), every page, in the reader's language; p and
    q as numbers. A finding holds no caller numbers: only how many calls are behind it."""
    options, chosen, filters = _selection()
    if (refused := refused_filter()) is not None:
        return refused
    teams = {a.id: a.team for a in options["agents"]}
    header = [gettext("Finding"), gettext("Period"), gettext("Agent"), gettext("Team"), gettext("Kind"),
              gettext("Evidence"), "p", "q", gettext("Calls behind it"), gettext("State"), gettext("Reviewed by"),
              gettext("Comment")]

    def body():
        with db().session() as s:
            for f in list_findings(s, filters, limit=None).items:
                ev = f.evidence or {}
                yield [f.id, f"{f.occurred_at.year:04d}-{f.occurred_at.month:02d}", f.agent_id, teams.get(f.agent_id),
                       label("flag_kind", f.kind), flag_reason(f), ev.get("p_value"), ev.get("q_value"),
                       len(ev.get("leg_ids") or ()), label("flag_state", f.state), f.reviewed_by, f.review_comment]
    name = "-".join(v for v in ("findings", chosen["state"] or "open", chosen["period"]) if v)
    return csv_response(f"{name}.csv", header, body())


@bp.get("/flags/<id:flag_id>")
def show(flag_id):
    rules = load_rules()
    with db().session() as s:
        flag = or_404(s.get(Flag, flag_id))
        legs = queries.legs_by_id(s, (flag.evidence or {}).get("leg_ids", []))
        start, end = (flag.occurred_at, flag.period_end) if flag.period_end else period_range(
            f"{flag.occurred_at:%Y-%m}")
        talk = queries.agent_ended_talk_times(s, start, end, agent_id=flag.agent_id).get(flag.agent_id, [])
        agent = s.get(Agent, flag.agent_id)
        cost = _costs(s, [flag.id]).get(flag.id) if flag.state != "confirmed" else None
    month = f"{start:%Y-%m}"
    title = gettext("%(agent)s: agent-ended talk times, %(period)s", agent=flag.agent_id, period=month)
    thresholds = (flag.evidence or {}).get("threshold_seconds")
    if flag.kind == "early-hangup" and isinstance(thresholds, dict) and thresholds:
        short = max(thresholds.values())
        upper = int(math.ceil((rules.cap_seconds + 300) / 10) * 10)
        chart = svg.histogram(queries.bin_counts(talk, 10, upper), 10, short, window=short, title=title,
                              cap_label=gettext("short"), longer=gettext("%(start)s or longer"))
        verdict = None
    elif flag.kind == "transfer-out":
        # The calls passed on, by talk before the transfer, against the agent's median agent-ended call.
        passed = [leg.talk_seconds for leg in legs.values()]
        typical = sorted(talk)[len(talk) // 2] if talk else 0
        upper = int(math.ceil((max([typical, *passed], default=0) + 60) / 30) * 30)
        chart = svg.histogram(queries.bin_counts(passed, 30, upper), 30, typical,
                              title=gettext("%(agent)s: talk before the transfer, %(period)s", agent=flag.agent_id,
                                            period=f"{start:%Y-%m}"),
                              cap_label=gettext("median call"))
        verdict = None
    else:
        chart, verdict = handle_time_chart(talk, rules, title)
    return render("finding.html", flag=flag, agent=agent, cost=cost, legs=[legs[i] for i in sorted(legs, key=lambda i: (
        legs[i].started_at, i))], chart=chart, verdict=verdict, rules=rules, period=f"{start:%Y-%m}")


def _comment_problem(decision: str | None, comment: str) -> str | None:
    """What the review would be refused for (``check_review``'s rules), in the reader's language."""
    try:
        check_review(decision or "", actor(), comment)
    except ReviewError as exc:
        return refusal(exc)
    return None


@bp.post("/flags/review")
def review_many():
    """Confirm or dismiss the ticked findings, or every finding the queue's filter matches."""
    decision = request.form.get("decision")
    comment = (request.form.get("comment") or "").strip()
    back = safe_path(request.form.get("back")) or url_for("flags.index")
    scope = (request.form.get("scope") or "selected").strip()
    # The form carries the queue's filters; one that is no longer a choice means the page is
    # stale, and "all matching" would not be what the reader saw: refuse rather than guess.
    chosen = {name: (request.form.get(name) or "").strip() or None for name in FILTERS}
    stale = [name for name, allowed in _allowed(_options()).items() if chosen[name] and chosen[name] not in allowed]
    problem = _comment_problem(decision, comment) or (gettext("Choose the ticked findings or all matching the filter; nothing was done.") if scope not in ("selected", "matching") else None) \
        or (gettext("%(what)s: “%(value)s” is no longer a choice, so the page was out of date; nothing was done.", what=gettext(LABELS[stale[0]]), value=shown(chosen[stale[0]])) if stale else None)
    if problem:
        flash(problem, "error")
        return redirect(back)
    if scope == "matching":
        with db().session() as s:
            ids = [f.id for f in list_findings(s, _queue_filter(chosen), limit=None).items]
    else:
        raw = request.form.getlist("ids")
        ids = [int(v) for v in raw if ID.fullmatch(v) and int(v) < 2**31]
        if len(ids) != len(raw):
            flash(gettext("The selection was not understood; nothing was done."), "error")
            return redirect(back)
    if not ids:
        flash(gettext("Tick at least one finding, or choose all matching the filter."), "error")
        return redirect(back)
    try:
        with db().session() as s:
            result = review_flags(s, ids, actor(), decision, comment)
            done = len(result.reviewed)
    except ReviewError as exc:
        flash(gettext("Not reviewed: %(detail)s", detail=str(exc)), "error")
        return redirect(back)
    if done:
        flash(gettext("Confirmed: %(n)s.", n=done) if decision == "confirm" else gettext("Dismissed: %(n)s.", n=done),
              "ok")
    if result.refused:
        flash(gettext("Not reviewed: %(detail)s", detail="; ".join(f"#{i}: {why}" for i, why in result.refused.items())), "error")
    return redirect(back)


@bp.post("/flags/<id:flag_id>/review")
def review(flag_id):
    decision = request.form.get("decision")
    comment = (request.form.get("comment") or "").strip()
    problem = _comment_problem(decision, comment)
    if problem:
        flash(problem, "error")
    else:
        try:
            with db().session() as s:
                or_404(s.get(Flag, flag_id))
                state = review_flag(s, flag_id, actor(), decision, comment).state
        except (ValueError, LookupError) as exc:
            flash(gettext("Flag %(id)s was not reviewed: %(detail)s", id=flag_id, detail=str(exc)), "error")
        else:
            flash(gettext("Flag %(id)s %(state)s.", id=flag_id, state=label("flag_state", state)), "ok")
    return redirect(safe_path(request.form.get("back")) or url_for("flags.index"))
