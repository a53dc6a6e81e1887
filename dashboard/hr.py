"""HR: pay periods, locking, exports and the audit log.

Locking and exporting are the payroll use cases the JSON API and the CLI share
(``scoring.payroll.actions``): each starts a job. A lock is irreversible, so it goes through
a confirmation page that shows what will be frozen and asks why (the reason goes to the audit
log) and lists the agents' open disputes of the period, which must be decided first or
locked over with "lock anyway"; it runs in the foreground, so the page says at once whether the period is locked. An
export is left to the worker and the page polls it.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import func, select

from dashboard import audit_words
from dashboard.auth import guard
from dashboard.i18n import current_language, refusal
from dashboard.paging import paged
from dashboard.templating import last_day
from dashboard.web import actor, db, or_404, render
from scoring.payroll.actions import REASON_MAX, start_export, start_lock
from scoring.disputes import open_disputes
from scoring.payroll.jobs import EXPORT_JOBS
from scoring.payroll.periods import PeriodError, known_period, known_periods, lock_preview
from store.accounts import AuditLog, audit
from store.base import utcnow
from store.flags import Flag
from store.jobs import Job
from store.payroll import EXPORT_FORMATS, ExportFile
from store.users import User

bp = Blueprint("hr", __name__, url_prefix="/hr")
bp.before_request(guard("periods"))

AUDIT_PAGE = 100


@bp.get("/periods")
def periods():
    with db().session() as s:
        rows = known_periods(s)
        export_jobs = list(s.scalars(select(Job).where(Job.func.in_(EXPORT_JOBS)).order_by(Job.id.desc()).limit(20)))
        files = list(s.scalars(select(ExportFile).order_by(ExportFile.id.desc()).limit(50)))
    busy = any(j.state in ("pending", "queued", "running") for j in export_jobs)
    return render("periods.html", rows=rows, jobs=export_jobs, files=files, formats=EXPORT_FORMATS, busy=busy,
                  now=utcnow())


def _refusal(exc: PeriodError) -> str:
    """A refused lock or export in the reader's language."""
    if exc.key == "not_ended":
        return gettext("Period %(key)s ends %(end)s; it can be locked once it has ended.",
                       key=exc.params["key"], end=last_day(exc.params["ends_at"]))
    if exc.key in ("already_locked", "bad_format", "reason_required", "reason_long", "open_disputes"):
        return refusal(exc)
    return gettext("Period %(key)s was not locked: %(detail)s", key=request.view_args.get("key"), detail=str(exc))


@bp.get("/periods/<key>/lock")
def confirm_lock(key):
    """What locking means and what it will freeze, with the reason field: the lock button's page."""
    try:
        with db().session() as s:
            period = or_404(known_period(s, key))   # only a period the periods page lists
            preview = lock_preview(s, key)
            disputes = [(d, s.get(Flag, d.flag_id)) for d in open_disputes(s, period.starts_at, period.ends_at)]
    except PeriodError as exc:
        flash(_refusal(exc), "error")
        return redirect(url_for("hr.periods"))
    return render("lock.html", period=period, preview=preview, reason_max=REASON_MAX, disputes=disputes)


@bp.post("/periods/<key>/lock")
def lock(key):
    try:
        with db().session() as s:
            or_404(known_period(s, key))   # only a period the periods page lists, never a new one
            job_id = start_lock(s, key, actor(), reason=request.form.get("reason", ""),
                                lock_anyway=request.form.get("lock_anyway") == "1").id
    except PeriodError as exc:
        flash(_refusal(exc), "error")
        if exc.key in ("reason_required", "reason_long", "open_disputes"):     # back to the confirmation
            return redirect(url_for("hr.confirm_lock", key=key))
        return redirect(url_for("hr.periods"))
    state = current_app.extensions["run_job"](job_id)
    if state == "done":
        flash(gettext("Period %(key)s locked.", key=key), "ok")
    elif state == "skipped":    # a worker holds it already
        flash(gettext("Period %(key)s is being locked by job %(id)s.", key=key, id=job_id), "ok")
    else:
        with db().session() as s:
            error = (s.get(Job, job_id).error or "").strip().splitlines()
        flash(gettext("Period %(key)s was not locked: %(detail)s", key=key, detail=error[-1] if error else state),
              "error")
    return redirect(url_for("hr.periods"))


@bp.post("/periods/<key>/export")
def export(key):
    fmt = request.form.get("fmt", "csv")
    try:
        with db().session() as s:
            or_404(known_period(s, key))
            job_id = start_export(s, key, fmt, actor(), lang=current_language()).id
    except PeriodError as exc:
        flash(_refusal(exc), "error")
    else:
        flash(gettext("Export of %(key)s (%(fmt)s) queued as job %(id)s.", key=key, fmt=fmt, id=job_id), "ok")
    return redirect(url_for("hr.periods"))


@bp.get("/exports/<id:export_id>")
def download(export_id):
    with db().session() as s:
        f = or_404(s.get(ExportFile, export_id))
        audit(s, actor(), "export.download", f"period:{f.period_key}", file=f.filename, checksum=f.checksum)
        body, name, checksum = f.content, f.filename, f.checksum
    mimetypes = {"csv": "text/csv", "json": "application/json",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    return Response(body, mimetype=mimetypes.get(f.fmt, "application/octet-stream"),
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Checksum-SHA256": checksum})


@bp.get("/audit")
def audit_log():
    """Newest first; ``action`` a code or its prefix (the select offers every action), ``actor``
    exact. Routine system entries (``audit_words.ROUTINE``) are folded into a count line unless
    an action is chosen or ``routine=1``."""
    action = request.args.get("action") or None
    who = request.args.get("actor") or None
    routine = request.args.get("routine") == "1"
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action.startswith(action))
    if who:
        query = query.where(AuditLog.actor == who)
    folded = {}
    with db().session() as s:
        if not action and not routine:
            folded = dict(s.execute(select(AuditLog.action, func.count()).where(
                AuditLog.action.in_(audit_words.ROUTINE), *([AuditLog.actor == who] if who else []))
                .group_by(AuditLog.action)).all())
            query = query.where(AuditLog.action.not_in(audit_words.ROUTINE))
        page = paged(s.scalar(select(func.count()).select_from(query.subquery())), size=AUDIT_PAGE)
        entries = list(s.scalars(query.order_by(AuditLog.id.desc()).offset(page.offset).limit(page.size)))
        emails = dict(s.execute(select(User.id, User.email).where(User.id.in_(audit_words.user_ids(entries)))).all())
    rows = [{"e": e, "actor": audit_words.actor(e.actor), "target": audit_words.target(e.target),
             "details": audit_words.details(e.action, e.detail, emails)} for e in entries]
    return render("audit.html", rows=rows, page=page, action=action, actor=who, actions=audit_words.ACTIONS,
                  folded=sorted(folded.items()), routine=routine)
