"""Background jobs for payroll: recompute cached scorecards, lock a period, build an export.

Each is ``fn(ctx, **kwargs)`` run by `aftercall.jobs` and safe to run twice: the cache is
replaced per (period, team), a locked period is left as it is, and an export job reuses the
file it already stored. The dashboard, the JSON API and the CLI submit these same jobs.
"""
from __future__ import annotations

from sqlalchemy import delete

from scoring.payroll.exports import export_period
from scoring.payroll.periods import get_or_create_period, lock_period, period_bounds
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import load_config
from store.base import utcnow
from store.jobs import job
from store.payroll import ScorecardCache


@job("scoring.payroll_jobs.recompute_scorecards", coalesce=True)
def recompute_scorecards(ctx, period_keys: list[str], team: str = "") -> dict:
    """Recompute and cache scorecards of each period (e.g. after a rules change over history)."""
    cfg = load_config()
    for key in period_keys:
        period_bounds(key, cfg)   # fail before any work on a bad key
    for i, key in enumerate(period_keys):
        ctx.progress(i / len(period_keys), f"scorecards {key}")
        with ctx.db.session() as s:
            period = get_or_create_period(s, key, cfg)
            cards = build_scorecards(s, period.starts_at, period.ends_at, team=team or None, config=cfg)
            s.execute(delete(ScorecardCache).where(ScorecardCache.period_key == key, ScorecardCache.team == team))
            s.add(ScorecardCache(period_key=key, team=team, computed_at=utcnow(), rows=[c.to_dict() for c in cards]))
    return {"periods": period_keys, "team": team}


@job("scoring.payroll_jobs.lock")
def lock(ctx, period_key: str, actor: str, reason: str | None = None) -> dict:
    ctx.progress(0.0, f"locking {period_key}")
    with ctx.db.session() as s:
        period = get_or_create_period(s, period_key)
        if period.state != "locked":
            period = lock_period(s, period_key, actor, reason=reason)
        return {"period": period_key, "checksum": period.checksum, "locked_by": period.locked_by}


@job("scoring.payroll_jobs.build_export")
def build_export(ctx, period_key: str, fmt: str, actor: str, lang: str = "en") -> dict:
    """Build (and store, audit-logged) a period's export; idempotent: ``export_period`` finds
    the file this job already stored by ``job_id``. ``lang``: the XLSX's words and the pay
    reasons (rows stored before it existed export in English)."""
    ctx.progress(0.0, f"building {fmt} export of {period_key}")
    with ctx.db.session() as s:
        result = export_period(s, period_key, fmt, actor, job_id=ctx.job_id, lang=lang)
        return {"export_id": result.export_id, "filename": result.filename, "checksum": result.checksum,
                "size": len(result.bytes)}


@job("dashboard.jobs.build_export")
def build_export_of_key(ctx, key: str, fmt: str, actor: str) -> dict:
    """Rows the dashboard submitted when it had an export job of its own (``key=``) still run."""
    return build_export(ctx, key, fmt, actor)


EXPORT_JOBS = (build_export.job_name, build_export_of_key.job_name)
"""Both names an export job row may carry."""
PAYROLL_JOBS = (recompute_scorecards.job_name, lock.job_name, *EXPORT_JOBS)
