"""The calls list (paged, searchable, as CSV) and one call's timeline (supervisors)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, request
from flask_babel import gettext
from sqlalchemy import or_, select

from dashboard import call_list, queries, words as caller_words
from dashboard.auth import guard
from dashboard.call_list import OUTCOMES, CallFilter
from dashboard.csv_out import csv_response, refused_filter
from dashboard.i18n import N_, InputError, answer, label
from dashboard.masking import mask
from dashboard.paging import paged
from dashboard.web import caller_arg, centre_tz, choice_arg, db, or_404, page_range, render
from store.flags import Flag
from store.recordings import Recording

bp = Blueprint("calls", __name__)
bp.before_request(guard("calls"))


def _selection(s):
    """The range and filters of the query string (a bad one is flashed and not applied)."""
    rng, known = page_range(s, request.args)
    teams = queries.teams(s)
    agents = sorted(queries.agent_ids(s))
    queues = call_list.queues(s)
    try:
        search = call_list.parse_search(request.args.get("q"))
    except InputError as exc:
        flash(exc.say(), "error")
        search = None
    caller = caller_arg(s)
    f = CallFilter(rng.start, rng.end, agent_id=choice_arg("agent", agents, N_("Agent")),
                   team=choice_arg("team", teams, N_("Team")), queue=choice_arg("queue", queues, N_("Queue")),
                   outcome=choice_arg("outcome", OUTCOMES, N_("Outcome")), search=search,
                   caller=caller[0] if caller else None)
    return f, rng, {"periods": known, "teams": teams, "agents": agents, "queues": queues,
                    "caller": mask(caller[1]) if caller else None}


def shown_args(f: CallFilter, rng) -> dict:
    """The query string of this selection, for links that keep it (CSV, pages)."""
    args = {"agent": f.agent_id, "team": f.team, "queue": f.queue, "outcome": f.outcome,
            "q": (request.args.get("q") or "").strip() if f.search else None, "caller": f.caller, **rng.args()}
    return {k: v for k, v in args.items() if v}


@bp.get("/calls")
def index():
    with db().session() as s:
        f, rng, choices = _selection(s)
        page = paged(call_list.count_calls(s, f))
        rows = call_list.list_calls(s, f, offset=page.offset, limit=page.size)
    return render("calls.html", rng=rng, rows=rows, page=page, f=f, q=request.args.get("q", ""),
                  outcomes=OUTCOMES, team=f.team, args=shown_args(f, rng),
                  range_extra={k: v for k, v in shown_args(f, rng).items()
                               if k in ("agent", "queue", "outcome", "q", "caller")},
                  **choices)


@bp.get("/calls.csv")
def download():
    """The list as shown (same selection and order), every page, in the reader's language."""
    with db().session() as s:
        f, rng, _ = _selection(s)
    if (refused := refused_filter()) is not None:
        return refused
    tz = centre_tz()
    header = [gettext("Started"), "CallSid", gettext("Caller"), gettext("Agents"), gettext("Talk (s)"),
              gettext("Ended by"), gettext("Adequacy"), gettext("CSAT 1–5"), gettext("Status")]

    def body():
        with db().session() as s:
            for c in call_list.iter_calls(s, f):
                yield [c.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), c.sid, c.caller, " ".join(c.agents),
                       c.talk_seconds if c.agents else None, label("ended", c.ended_by or "unknown"),
                       answer("adequate", c.answers["adequate"]) if "adequate" in c.answers else None,
                       c.answers.get("satisfaction"), label("call_status", c.status)]
    return csv_response(f"calls-{rng.first_day}-{rng.last_day}.csv", header, body())


@bp.get("/calls/<sid>")
def show(sid):
    with db().session() as s:
        call, events = or_404(queries.call_timeline(s, sid))
        leg_ids = [e.data["id"] for e in events if e.kind == "leg"]
        flags = list(s.scalars(select(Flag).where(or_(Flag.call_sid == sid, Flag.leg_id.in_(leg_ids)))
                               .order_by(Flag.id)))
        said = caller_words.shown(s, leg_ids)
    return render("call.html", call=call, events=events, flags=flags, said=said)


@bp.get("/calls/<sid>/words/<recording_sid>.mp3")
def words_audio(sid, recording_sid):
    """The caller's recorded words, fetched from Twilio with the account's credentials; 404
    once deleted, or when Twilio cannot give it."""
    with db().session() as s:
        row = s.scalar(select(Recording).where(Recording.recording_sid == recording_sid, Recording.call_sid == sid,
                                               Recording.deleted_at.is_(None)))
    if row is None:
        abort(404)
    fetch = current_app.extensions.get("recording_audio")
    if fetch is None:
        abort(404)
    try:
        audio, mimetype = fetch(row.recording_sid)
    except Exception:   # no credentials, Twilio unreachable or without it: nothing to play
        current_app.logger.warning("recording %s could not be fetched from Twilio", row.recording_sid, exc_info=True)
        abort(404)
    return Response(audio, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})
