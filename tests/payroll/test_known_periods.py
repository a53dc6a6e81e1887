"""Which periods HR sees (every month with calls, the current one, every stored one) without
any row being created, and what a lock would freeze before it is confirmed."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scoring.payroll.actions import start_lock
from scoring.payroll.periods import PeriodError, get_or_create_period, known_periods, lock_period, lock_preview
from scoring.scorecards.config import ScoringConfig
from store.accounts import AuditLog
from store.payroll import PayPeriod
from tests.payroll.conftest import T0

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=timezone.utc)


def test_months_with_calls_the_current_one_and_stored_ones_newest_first(build, db_session):
    build.agent("a")
    build.call("a", at=T0)                                              # October 2026
    build.call("a", at=datetime(2026, 7, 10, 9, 0, tzinfo=timezone.utc))  # July; August/September have none
    get_or_create_period(db_session, "2025-03")                         # stored, no calls
    found = known_periods(db_session, NOW)
    assert [p.key for p in found] == ["2027-01", "2026-10", "2026-07", "2025-03"]
    assert [p.stored for p in found] == [False, False, False, True]
    assert all(p.state == "open" for p in found)
    assert db_session.query(PayPeriod).count() == 1                     # listing stored nothing
    lock_period(db_session, "2026-10", "hr@example.com", now=NOW)
    assert {p.key: p.state for p in known_periods(db_session, NOW)}["2026-10"] == "locked"


def test_weekly_periods_are_iso_weeks_with_calls(build, db_session):
    build.agent("a")
    build.call("a", at=T0)                                              # Monday of 2026-W41
    cfg = ScoringConfig(period="weekly")
    assert [p.key for p in known_periods(db_session, NOW, cfg)] == ["2027-W01", "2026-W41"]   # 10 Jan 2027 is a Sunday of W01


def test_the_preview_is_what_the_lock_stores_and_the_reason_is_audited(build, db_session):
    build.agent("a")
    build.agent("b")
    for _ in range(3):
        build.call("a", adequate=1, rating=5)
    build.call("b", adequate=2, rating=2)
    preview = lock_preview(db_session, "2026-10", now=NOW)
    assert (preview.agents, preview.handled, preview.adjustments) == (2, 4, 0)
    assert db_session.get(PayPeriod, "2026-10") is None                 # the preview stores nothing
    period = lock_period(db_session, "2026-10", "hr@example.com", reason="October is final", now=NOW)
    assert period.checksum == preview.checksum
    entry = db_session.query(AuditLog).filter_by(action="period.lock").one()
    assert entry.detail["reason"] == "October is final"
    with pytest.raises(PeriodError) as refused:
        lock_preview(db_session, "2026-10", now=NOW)
    assert refused.value.key == "already_locked"


@pytest.mark.parametrize("reason, key", [("", "reason_required"), ("  \n ", "reason_required"),
                                         ("x" * 501, "reason_long")])
def test_a_given_reason_must_say_something(db_session, reason, key):
    with pytest.raises(PeriodError) as refused:
        start_lock(db_session, "2026-10", "hr@example.com", reason=reason, now=NOW)
    assert refused.value.key == key
    assert db_session.get(PayPeriod, "2026-10") is None


def test_an_unfinished_period_has_no_preview(db_session):
    with pytest.raises(PeriodError) as refused:
        lock_preview(db_session, "2027-01", now=NOW)
    assert refused.value.key == "not_ended"
