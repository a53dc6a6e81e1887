"""JSON API for HR and payroll systems (bearer token, role "hr"): periods, locks and bonus exports.

Slow work (scorecards, locking, building files) runs as jobs: POST starts one through the
payroll use cases the dashboard and the CLI share (``scoring.payroll.actions``) and answers
202 with the job; GET /api/payroll/jobs/<id> shows its state. A locked period's rows are
served directly from its frozen snapshot.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from scoring.payroll import actions
from scoring.payroll.columns import LANGUAGES
from scoring.payroll.exports import CONTENT_TYPES, export_period
from scoring.payroll.jobs import PAYROLL_JOBS
from scoring.payroll.periods import PeriodError, get_or_create_period, list_periods, period_bounds
from store.jobs import Job
from store.payroll import ExportFile, ScorecardCache
from webhooks.security import api_error, require_token

bp = Blueprint("payroll_api", __name__, url_prefix="/api/payroll")
MAX_ID = 2**31 - 1   # ids are INTEGER columns: a bigger one names no row (and would overflow the driver)
CONFLICTS = ("already_locked", "not_ended", "open_disputes")
"""Refusals about the period's state (409); anything else wrong with a request is a 400."""


def _db():
    return current_app.extensions["db"]


def _actor() -> str:
    return f"token:{g.api_token['name']}"


@bp.errorhandler(PeriodError)
def _bad_period(exc):
    return api_error(409 if exc.key in CONFLICTS else 400, str(exc))


def _started(job: Job):
    return jsonify({"job": job.to_dict(), "status_url": f"/api/payroll/jobs/{job.id}"}), 202


@bp.get("/periods")
@require_token("hr")
def periods():
    with _db().session() as s:
        return jsonify({"periods": [p.to_dict() for p in list_periods(s)]})


@bp.get("/periods/<key>")
@require_token("hr")
def period(key):
    period_bounds(key)
    with _db().session() as s:
        p = get_or_create_period(s, key)
        cache = s.query(ScorecardCache).filter_by(period_key=key, team="").one_or_none()
        return jsonify({**p.to_dict(), "scorecards": cache.rows if cache else None,
                        "scorecards_computed_at": cache.computed_at.isoformat() if cache else None})


@bp.get("/periods/<key>/bonus")
@require_token("hr")
def bonus(key):
    """The locked period's pay rows as JSON (the payroll feed); audit-logged like any export.
    ``?language=ru`` words ``pay_reason_text`` in Russian (default English; every other cell is the same)."""
    period_bounds(key)
    language = request.args.get("language", "en")
    if language not in LANGUAGES:
        return api_error(400, f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    with _db().session() as s:
        if get_or_create_period(s, key).state != "locked":
            return api_error(409, f"period {key} is not locked; lock it first (POST /api/payroll/periods/{key}/lock)")
        result = export_period(s, key, "json", _actor(), lang=language)
    return Response(result.bytes, mimetype="application/json", headers={"X-Checksum-SHA256": result.checksum})


def _optional_body() -> dict | None:
    """The JSON object sent, {} when no body was; None when one was sent but is no JSON object
    (a malformed body is refused, not taken for "no options")."""
    if not request.get_data(cache=True).strip():
        return {}
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/periods/<key>/lock")
@require_token("hr")
def lock(key):
    """Body (optional): ``{"reason": "...", "lock_anyway": true}``, audit-logged with the lock like
    the dashboard's; a period with open disputes needs ``lock_anyway`` and a reason (else 409)."""
    body = _optional_body()
    if body is None:
        return api_error(400, 'the body must be empty or a JSON object, e.g. {"reason": "month end"}')
    reason = body.get("reason")
    anyway = body.get("lock_anyway", False)
    if reason is not None and not isinstance(reason, str):
        return api_error(400, "reason must be a string")
    if not isinstance(anyway, bool):
        return api_error(400, "lock_anyway must be true or false")
    with _db().session() as s:
        return _started(actions.start_lock(s, key, _actor(), reason=reason, lock_anyway=anyway))


@bp.post("/periods/<key>/recompute")
@require_token("hr")
def recompute(key):
    with _db().session() as s:
        return _started(actions.start_recompute(s, key, _actor()))


@bp.post("/periods/<key>/exports")
@require_token("hr")
def start_export(key):
    """Body (optional): ``{"format": "csv"|"xlsx"|"json", "language": "en"|"ru"}``; the language
    words the XLSX and every format's ``pay_reason_text`` (default English)."""
    body = _optional_body()
    if body is None or not all(isinstance(body.get(k, "x"), str) for k in ("format", "language")):
        return api_error(400, 'the body must be a JSON object whose "format" and "language" are strings, '
                              'e.g. {"format": "csv", "language": "ru"}')
    with _db().session() as s:
        return _started(actions.start_export(s, key, body.get("format", "csv"), _actor(),
                                             lang=body.get("language", "en")))


@bp.get(f"/jobs/<int(min=1, max={MAX_ID}):job_id>")
@require_token("hr")
def job(job_id):
    with _db().session() as s:
        j = s.get(Job, job_id)
        if j is None or j.func not in PAYROLL_JOBS:
            return api_error(404, f"no payroll job {job_id}")
        body = j.to_dict()
        if j.state == "done" and (j.result or {}).get("export_id"):
            body["download_url"] = f"/api/payroll/exports/{j.result['export_id']}"
        return jsonify(body)


@bp.get(f"/exports/<int(min=1, max={MAX_ID}):export_id>")
@require_token("hr")
def download(export_id):
    with _db().session() as s:
        f = s.get(ExportFile, export_id)
        if f is None:
            return api_error(404, f"no export {export_id}")
        return Response(f.content, mimetype=CONTENT_TYPES[f.fmt], headers={
            "Content-Disposition": f'attachment; filename="{f.filename}"', "X-Checksum-SHA256": f.checksum})
