"""What HR does to a pay period, the same from the dashboard, the JSON API and the CLI.

Locking and exporting read a whole period of calls, so each starts a job (``payroll.jobs``)
after the checks a person can act on (a bad key or format, a period locked already or not
over yet) have passed: those are refused at once, the same way from every entry point. The
work itself, and its audit entry, is the job's (``lock_period``, ``export_period``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scoring.payroll.columns import LANGUAGES
from scoring.payroll.jobs import build_export, lock, recompute_scorecards
from scoring.payroll.periods import PeriodError, check_lockable, get_or_create_period, period_bounds
from store.base import utcnow
from store.disputes import open_counts
from store.jobs import Job, submit
from store.payroll import EXPORT_FORMATS


REASON_MAX = 500


def lock_reason(reason: str | None) -> str | None:
    """Why a person locks, for the audit log: None when the entry point did not ask (the API
    and the CLI may omit it), else a non-blank text of at most ``REASON_MAX`` characters."""
    if reason is None:
        return None
    reason = reason.strip()
    if not reason:
        raise PeriodError("a reason for the lock is required", "reason_required")
    if len(reason) > REASON_MAX or "\x00" in reason:
        raise PeriodError(f"a reason can have at most {REASON_MAX} characters (and no NUL)", "reason_long",
                          n=REASON_MAX)
    return reason


def start_lock(session: Session, key: str, actor: str, *, reason: str | None = None, lock_anyway: bool = False,
               now: datetime | None = None) -> Job:
    """Refuse a period that cannot be locked now (or a blank reason), else submit its lock.
    A period with open disputes is refused unless the person locks anyway, with a reason."""
    reason = lock_reason(reason)
    period = get_or_create_period(session, key)
    check_lockable(period, now or utcnow())
    waiting = sum(open_counts(session, period.starts_at, period.ends_at).values())
    if waiting and not lock_anyway:
        raise PeriodError(f"period {key} has {waiting} open disputes: decide them, or lock anyway with a reason",
                          "open_disputes", key=key, n=waiting)
    if waiting and reason is None:
        raise PeriodError("a reason for the lock is required", "reason_required")
    extra = {"reason": reason} if reason is not None else {}
    return submit(session, lock, created_by=actor, period_key=key, actor=actor, **extra)


def start_export(session: Session, key: str, fmt: str, actor: str, lang: str = "en") -> Job:
    """Refuse a bad period key or an unknown format, else submit the export (locked or
    provisional); ``lang`` is the exporting user's: the XLSX's words, every format's pay reasons."""
    period_bounds(key)
    if fmt not in EXPORT_FORMATS:
        raise PeriodError(f"format must be one of {', '.join(EXPORT_FORMATS)}", "bad_format",
                          choices=", ".join(EXPORT_FORMATS))
    if lang not in LANGUAGES:
        raise PeriodError(f"language must be one of {', '.join(LANGUAGES)}", "bad_language",
                          choices=", ".join(LANGUAGES))
    return submit(session, build_export, created_by=actor, period_key=key, fmt=fmt, actor=actor,
                  **({"lang": lang} if lang != "en" else {}))


def start_recompute(session: Session, key: str, actor: str) -> Job:
    """Submit a recomputation of the period's cached scorecards."""
    period_bounds(key)
    return submit(session, recompute_scorecards, created_by=actor, period_keys=[key])
