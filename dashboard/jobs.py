"""Background work started from the dashboard."""
from __future__ import annotations

from dashboard.sources import optional

EXPORT = "scoring.payroll.exports.export_period"


def build_export(ctx, key: str, fmt: str, actor: str) -> dict:
    """Build (and store, audit-logged) a period's export; the periods page polls this job.

    Idempotent: ``export_period`` finds the file this job already stored by ``job_id``.
    """
    export_period = optional(EXPORT)
    if export_period is None:
        raise RuntimeError(f"{EXPORT} is not available")
    ctx.progress(0.1, f"building {key} {fmt}")
    with ctx.db.session() as s:
        result = export_period(s, key, fmt, actor, job_id=ctx.job_id)
        return {"export_id": result.export_id, "filename": result.filename, "checksum": result.checksum,
                "size": len(result.bytes)}
