"""HR: pay periods, locking, exports (built as background jobs) and the audit log."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from sqlalchemy import select

from aftercall import jobs
from dashboard.accounts import audit
from dashboard.auth import guard
from dashboard.i18n import InputError, t
from dashboard.sources import optional
from dashboard.templating import last_day
from dashboard.web import actor, db, or_404, render
from store.accounts import AuditLog
from store.base import utcnow
from store.jobs import Job
from store.payroll import EXPORT_FORMATS, ExportFile, PayPeriod

bp = Blueprint("hr", __name__, url_prefix="/hr")
bp.before_request(guard("periods"))

LIST = "scoring.payroll.periods.list_periods"
LOCK = "scoring.payroll.periods.lock_period"
EXPORT_JOB = "dashboard.jobs.build_export"
AUDIT_PAGE = 200


def _periods(s) -> list:
    list_periods = optional(LIST)
    if list_periods is not None:
        return list(list_periods(s))
    return list(s.scalars(select(PayPeriod).order_by(PayPeriod.starts_at.desc())))


@bp.get("/periods")
def periods():
    with db().session() as s:
        rows = _periods(s)
        export_jobs = list(s.scalars(select(Job).where(Job.func == EXPORT_JOB).order_by(Job.id.desc()).limit(20)))
        files = list(s.scalars(select(ExportFile).order_by(ExportFile.id.desc()).limit(50)))
    busy = any(j.state in ("pending", "queued", "running") for j in export_jobs)
    missing = [name for name in (LIST, LOCK, "scoring.payroll.exports.export_period") if optional(name) is None]
    return render("periods.html", rows=rows, jobs=export_jobs, files=files, formats=EXPORT_FORMATS,
                  busy=busy, missing=missing)


@bp.post("/periods/<key>/lock")
def lock(key):
    lock_period = optional(LOCK)
    if lock_period is None:
        flash(t("unavailable", what=LOCK), "error")
        return redirect(url_for("hr.periods"))
    try:
        with db().session() as s:
            period = or_404(s.get(PayPeriod, key))   # only a period this page lists, never a new one
            if period.state == "locked":
                raise InputError("already_locked", key=key)
            if period.ends_at > utcnow():
                raise InputError("not_ended", key=key, end=last_day(period.ends_at))
            lock_period(s, key, actor())
    except InputError as exc:
        flash(exc.say(), "error")
    except (ValueError, LookupError) as exc:    # scoring's own rules, past the checks above
        flash(t("lock_refused", key=key, detail=str(exc)), "error")
    else:
        flash(t("locked", key=key), "ok")
    return redirect(url_for("hr.periods"))


@bp.post("/periods/<key>/export")
def export(key):
    fmt = request.form.get("fmt", "csv")
    if fmt not in EXPORT_FORMATS:
        flash(t("bad_format", choices=", ".join(EXPORT_FORMATS)), "error")
        return redirect(url_for("hr.periods"))
    with db().session() as s:
        or_404(s.get(PayPeriod, key))
        job = jobs.submit(s, EXPORT_JOB, created_by=actor(), key=key, fmt=fmt, actor=actor())
        job_id = job.id
    flash(t("export_queued", key=key, fmt=fmt, id=job_id), "ok")
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
    action = request.args.get("action") or None
    who = request.args.get("actor") or None
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action.startswith(action))
    if who:
        query = query.where(AuditLog.actor == who)
    with db().session() as s:
        rows = list(s.scalars(query.order_by(AuditLog.id.desc()).limit(AUDIT_PAGE)))
    return render("audit.html", rows=rows, action=action, actor=who)
