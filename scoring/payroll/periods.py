"""Pay periods: what each agent is paid for a period, frozen when HR locks it.

Locking stores the exact rows (the snapshot) and its checksum; re-exporting a locked period
always returns those rows. Later changes to a locked period's calls (late survey answers,
flag reviews, a repeat call after the period ended) never rewrite it: they are paid as
``adjustment`` rows in the next open period, a diff against what was last paid (``settled``).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from scoring.outcomes.rules import load_rules
from scoring.payroll.reasons import reason_text
from scoring.scorecards.rollup import check_against_rows
from scoring.scorecards.config import ScoringConfig, load_config
from scoring.scorecards.carried import carried_evidence
from scoring.scorecards.statistics import AgentScorecard, scorecards_from
from scoring.scorecards.tally import live_tally
from store.accounts import audit
from store.agents import Agent
from store.base import upsert_ignore, utcnow
from store.calls import Call, SurveyAnswer
from store.disputes import open_counts
from store.flags import Flag
from store.payroll import PayPeriod

COLUMNS = (
    "period", "row_type", "source_period", "agent_id", "agent_name", "team",
    "handled", "surveys_offered", "surveys_completed", "response_rate",
    "adequacy_raw", "adequacy", "adequacy_low", "adequacy_high",
    "csat_raw", "csat", "csat_low", "csat_high", "mean_rating",
    "fcr_raw", "fcr", "fcr_low", "fcr_high",
    "confirmed_flags", "flag_penalty", "composite", "tier", "multiplier", "insufficient", "rank",
    "previous_tier", "previous_multiplier", "multiplier_delta", "employee_number",
    "pay_reason", "pay_reason_text", "pay_rule_version", "disputes_open",
)
"""The pay-row contract shared by CSV, XLSX and JSON exports (documented in docs/hr.md, "Columns (the contract)")."""

PAY_FIELDS = ("handled", "surveys_offered", "surveys_completed", "adequacy_raw", "csat_raw", "fcr_raw",
              "confirmed_flags", "insufficient", "tier", "multiplier")
"""A locked period's agent gets an adjustment row when one of these changed: the agent's own
evidence or pay. Drift of shrunk rates caused only by other agents' data is not a change."""

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A bad period key or a forbidden transition (locking twice, locking an unfinished period):
    ``key`` and ``params`` name why (for translation), ``str()`` says it in English."""

    def __init__(self, message: str, key: str, /, **params):
        super().__init__(message)
        self.key, self.params = key, params


def period_bounds(key: str, config: ScoringConfig | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a period key: "2026-11" (monthly) or "2026-W47" (weekly, ISO)."""
    cfg = config or load_config()
    if cfg.period == "monthly":
        m = _MONTH.match(key or "")
        if not m:
            raise PeriodError(f"period must look like 2026-11 (monthly periods), got {key!r}", "bad_period",
                              value=key, example="2026-11")
        year, month = int(m[1]), int(m[2])
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
    else:
        m = _WEEK.match(key or "")
        try:
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1) if m else None
        except ValueError:
            first = None
        if first is None:
            raise PeriodError(f"period must look like 2026-W47 (weekly periods), got {key!r}", "bad_period",
                              value=key, example="2026-W47")
        following = first + timedelta(days=7)
    local = [datetime(d.year, d.month, d.day, tzinfo=cfg.tz) for d in (first, following)]
    return local[0].astimezone(timezone.utc), local[1].astimezone(timezone.utc)


def period_key_for(at: datetime, config: ScoringConfig | None = None) -> str:
    cfg = config or load_config()
    local = at.astimezone(cfg.tz)
    if cfg.period == "monthly":
        return f"{local.year:04d}-{local.month:02d}"
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


def list_periods(session: Session) -> list[PayPeriod]:
    """Stored periods (ever locked, exported or asked for), newest first."""
    return list(session.scalars(select(PayPeriod).order_by(PayPeriod.starts_at.desc())))


@dataclass(frozen=True)
class KnownPeriod:
    """A period HR can act on: a stored ``pay_periods`` row, or a period with calls (or the
    current one) that nothing has stored yet (``stored`` False, so "open")."""

    key: str
    starts_at: datetime
    ends_at: datetime
    state: str = "open"
    locked_at: datetime | None = None
    locked_by: str | None = None
    checksum: str | None = None
    stored: bool = False

    @classmethod
    def of(cls, row: PayPeriod) -> "KnownPeriod":
        return cls(row.key, row.starts_at, row.ends_at, row.state, row.locked_at, row.locked_by, row.checksum, True)


def known_periods(session: Session, now: datetime | None = None,
                  config: ScoringConfig | None = None) -> list[KnownPeriod]:
    """Every period with calls, the current one and every stored one, newest first; computed
    from the calls' dates, so listing a period never creates its row (locking or exporting does)."""
    cfg = config or load_config()
    now = now or utcnow()
    found = {p.key: KnownPeriod.of(p) for p in list_periods(session)}
    current = period_key_for(now, cfg)
    found.setdefault(current, KnownPeriod(current, *period_bounds(current, cfg)))
    first, last = session.execute(select(func.min(Call.started_at), func.max(Call.started_at))).one()
    if first is not None:
        key = period_key_for(first, cfg)
        while True:
            start, end = period_bounds(key, cfg)
            if start > last:
                break
            if key not in found and session.scalar(select(exists().where(Call.started_at >= start,
                                                                         Call.started_at < end))):
                found[key] = KnownPeriod(key, start, end)
            key = period_key_for(end, cfg)
    return sorted(found.values(), key=lambda p: p.starts_at, reverse=True)


def known_period(session: Session, key: str, now: datetime | None = None,
                 config: ScoringConfig | None = None) -> KnownPeriod | None:
    """``key`` if ``known_periods`` lists it, else None."""
    return next((p for p in known_periods(session, now, config) if p.key == key), None)


def get_or_create_period(session: Session, key: str, config: ScoringConfig | None = None) -> PayPeriod:
    start, end = period_bounds(key, config)
    upsert_ignore(session, PayPeriod, {"key": key, "starts_at": start, "ends_at": end, "state": "open",
                                       "created_at": utcnow()})
    return session.get(PayPeriod, key)


def _num(value, digits: int = 4):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def card_row(card: AgentScorecard, period_key: str, cfg: ScoringConfig, employee_number: str = "",
             disputes_open: int = 0) -> dict:
    """One agent's pay row. No caller data: counts and rates only (and HR's number for the agent).
    ``disputes_open``: the agent's disputes of this period's flags no supervisor has answered yet."""
    flags = sum(v for k, v in card.confirmed_flags.items() if k in cfg.penalised_flags)
    row = {
        "period": period_key, "row_type": "score", "source_period": period_key,
        "agent_id": card.agent_id, "agent_name": card.name, "team": card.team,
        "handled": card.handled, "surveys_offered": card.surveys_offered,
        "surveys_completed": card.surveys_completed, "response_rate": _num(card.response_rate),
        "mean_rating": _num(card.mean_rating.mean), "confirmed_flags": flags,
        "flag_penalty": _num(card.composite.penalty), "composite": _num(card.composite.score),
        "tier": card.tier, "multiplier": card.multiplier, "insufficient": card.insufficient, "rank": card.rank,
        "previous_tier": None, "previous_multiplier": None, "multiplier_delta": None,
        "employee_number": employee_number or None,
        "pay_reason": card.pay_reason, "pay_rule_version": cfg.pay_rule,
        "disputes_open": disputes_open,
    }
    for name in ("adequacy", "csat", "fcr"):
        est = getattr(card, name)
        row.update({f"{name}_raw": _num(est.raw), name: _num(est.mean), f"{name}_low": _num(est.low),
                    f"{name}_high": _num(est.high)})
    row["pay_reason_text"] = reason_text(row, min_responses=cfg.min_responses)
    return {c: row[c] for c in COLUMNS}


def score_rows(session: Session, period: PayPeriod, cfg: ScoringConfig, *, check_rollup: bool = False) -> list[dict]:
    """The period's pay rows, always counted from the stored calls; ``check_rollup`` also
    holds the dashboard's daily rollup against those counts (``scoring.scorecards.rollup``)."""
    tally = live_tally(session, period.starts_at, period.ends_at, cfg)
    if check_rollup:
        check_against_rows(session, period.starts_at, period.ends_at, cfg, tally)
    cards = scorecards_from(session, tally, period.starts_at, period.ends_at, cfg,
                            carried=carried_evidence(session, period.starts_at, cfg))
    numbers = dict(session.execute(select(Agent.id, Agent.employee_number)).all())
    disputed = open_counts(session, period.starts_at, period.ends_at)
    return [card_row(c, period.key, cfg, numbers.get(c.agent_id, ""), disputed.get(c.agent_id, 0)) for c in cards]


def _changed_since(session: Session, period: PayPeriod) -> bool:
    """Anything recorded after the period was last settled that can move its numbers?"""
    since = period.settled_at or period.locked_at
    horizon = period.ends_at + timedelta(hours=load_rules().repeat_window_hours)
    in_period = (Call.started_at >= period.starts_at) & (Call.started_at < period.ends_at)
    late_answer = exists().where(SurveyAnswer.call_sid == Call.sid, SurveyAnswer.created_at > since, in_period)
    late_call = exists().where(Call.started_at >= period.starts_at, Call.started_at < horizon, Call.created_at > since)
    reviewed = exists().where(Flag.occurred_at >= period.starts_at, Flag.occurred_at < period.ends_at,
                              or_(Flag.reviewed_at > since, Flag.updated_at > since))
    return bool(session.scalar(select(or_(late_answer, late_call, reviewed))))


def _sources(session: Session, period: PayPeriod) -> list[PayPeriod]:
    """Locked periods before `period` whose next open period is `period`."""
    earlier = list(session.scalars(select(PayPeriod).where(PayPeriod.starts_at < period.starts_at)
                                   .order_by(PayPeriod.starts_at)))
    out = []
    for p in earlier:
        if p.state != "locked":
            continue
        if any(o.state == "open" and p.ends_at <= o.starts_at for o in earlier):
            continue
        out.append(p)
    return out


def pending_adjustments(session: Session, period: PayPeriod, cfg: ScoringConfig
                        ) -> tuple[list[dict], dict[str, list[dict]]]:
    """Adjustment rows `period` must pay, and each source period's rows as they now stand.

    A row paid under another pay rule (``pay_rule_version``) is not re-priced under this one:
    a rule change applies from the next open period, so only rows paid by the current rule,
    and agents not paid at all, get adjustments."""
    adjustments, current = [], {}
    for source in _sources(session, period):
        if not _changed_since(session, source):
            continue
        rows = score_rows(session, source, cfg)
        current[source.key] = rows
        paid = {r["agent_id"]: r for r in source.settled or []}
        for row in rows:
            before = paid.get(row["agent_id"])
            if before is not None and all(before.get(f) == row[f] for f in PAY_FIELDS):
                continue
            if before is not None and before.get("pay_rule_version") != cfg.pay_rule:
                continue
            old = before["multiplier"] if before else 0.0
            adjustments.append({**row, "period": period.key, "row_type": "adjustment",
                                "previous_tier": before["tier"] if before else None,
                                "previous_multiplier": old if before else None,
                                "multiplier_delta": _num(row["multiplier"] - old)})
    return adjustments, current


def checksum(snapshot: dict) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def period_rows(session: Session, key: str, config: ScoringConfig | None = None) -> tuple[PayPeriod, list[dict]]:
    """The rows to export: the frozen snapshot of a locked period, else a provisional computation."""
    cfg = config or load_config()
    period = get_or_create_period(session, key, cfg)
    if period.state == "locked":
        return period, period.snapshot["rows"] + period.snapshot["adjustments"]
    adjustments, _ = pending_adjustments(session, period, cfg)
    return period, score_rows(session, period, cfg) + adjustments


@dataclass(frozen=True)
class LockPreview:
    """What a lock would freeze now: the person confirming it sees these numbers."""

    key: str
    agents: int
    handled: int
    adjustments: int
    checksum: str
    insufficient: int = 0
    """Agents with too few answers for a score (paid what the pay rule gives them)."""
    insufficient_multipliers: tuple[float, ...] = ()
    """The multipliers those agents' rows carry, from the rows themselves (the rule may change)."""


def lock_preview(session: Session, key: str, *, now: datetime | None = None,
                 config: ScoringConfig | None = None) -> LockPreview:
    """The rows ``lock_period`` would freeze if nothing changes first (refused like the lock
    itself); computed without storing anything."""
    cfg = config or load_config()
    period = known_period(session, key, now, cfg) or KnownPeriod(key, *period_bounds(key, cfg))
    check_lockable(period, now or utcnow())
    rows = score_rows(session, period, cfg)
    adjustments, _ = pending_adjustments(session, period, cfg)
    short = [r for r in rows if r["insufficient"]]
    return LockPreview(key, len(rows), sum(r["handled"] for r in rows), len(adjustments),
                       checksum({"rows": rows, "adjustments": adjustments}), len(short),
                       tuple(sorted({r["multiplier"] for r in short})))


def check_lockable(period: PayPeriod | KnownPeriod, now: datetime) -> None:
    """A period can be locked once, after it has ended."""
    if period.state == "locked":
        raise PeriodError(f"period {period.key} is already locked (by {period.locked_by} at "
                          f"{period.locked_at:%Y-%m-%d %H:%M})", "already_locked", key=period.key)
    if period.ends_at > now:
        raise PeriodError(f"period {period.key} ends {period.ends_at.isoformat()}; it can be locked after it ends",
                          "not_ended", key=period.key, ends_at=period.ends_at)


def lock_period(session: Session, key: str, actor: str, *, reason: str | None = None,
                now: datetime | None = None, config: ScoringConfig | None = None) -> PayPeriod:
    """Freeze the period's pay rows (and the adjustments it carries); audit-logged with the
    reason the person gave, if any."""
    cfg = config or load_config()
    now = now or utcnow()
    get_or_create_period(session, key, cfg)
    period = session.scalars(select(PayPeriod).where(PayPeriod.key == key).with_for_update()).one()
    check_lockable(period, now)
    rows = score_rows(session, period, cfg, check_rollup=True)
    adjustments, current = pending_adjustments(session, period, cfg)
    period.snapshot = {"rows": rows, "adjustments": adjustments}
    period.checksum = checksum(period.snapshot)
    period.state, period.locked_at, period.locked_by = "locked", now, actor
    period.settled, period.settled_at = rows, now
    for source_key, source_rows in current.items():
        source = session.get(PayPeriod, source_key)
        source.settled, source.settled_at = source_rows, now
    audit(session, actor, "period.lock", key, at=now, checksum=period.checksum, rows=len(rows),
          adjustments=len(adjustments), adjusted_periods=sorted(current),
          disputes_open=sum(r["disputes_open"] for r in rows),
          **({"reason": reason} if reason is not None else {}))
    session.flush()
    return period
