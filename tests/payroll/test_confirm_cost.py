"""What confirming a finding would do to pay, shown before confirming: the preview is the card
the scorecard builder then actually gives (build, confirm, rebuild), and it stores nothing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from scoring.outcomes.review import review_flag
from scoring.payroll import confirm_cost as preview
from scoring.payroll.confirm_cost import Pay, confirm_cost, confirm_costs
from scoring.payroll.periods import get_or_create_period, lock_period
from scoring.scorecards.build import build_scorecards
from store.accounts import AuditLog
from store.flags import Flag
from tests.payroll.conftest import OCT

MONTH_START = datetime(2026, 10, 1, tzinfo=timezone.utc)   # an agent finding's period, UTC


def _centre(build, s):
    for agent_id, yes, no in (("carla", 26, 4), ("dan", 24, 6), ("eve", 20, 10), ("fay", 27, 3)):
        build.agent(agent_id)
        build.answers(agent_id, yes, no)
    flag = Flag(key="early-hangup:agent:carla:2026-10", kind="early-hangup", agent_id="carla",
                occurred_at=MONTH_START, period_end=datetime(2026, 11, 1, tzinfo=timezone.utc), reason="r",
                evidence={"legs": 30, "observed": 8, "expected": 2.0, "leg_ids": []}, rule_version="t",
                state="open", current=True)
    s.add(flag)
    s.flush()
    return flag


def _card(s, agent_id, **kw):
    return next(c for c in build_scorecards(s, *OCT, **kw) if c.agent_id == agent_id)


@pytest.mark.parametrize("rollup", [False, True])
def test_the_preview_is_what_confirming_then_does(build, db_session, rollup):
    s = db_session
    flag = _centre(build, s)
    before = Pay.of(_card(s, "carla", rollup=rollup))
    cost = confirm_cost(s, flag.id, rollup=rollup)
    assert (cost.agent_id, cost.agent_name, cost.period, cost.locked, cost.already_confirmed) == \
        ("carla", "Carla", "2026-10", False, False)
    assert cost.before == before
    # Nothing was stored: the flag is open, no review was audited, the card is as it was.
    assert s.get(Flag, flag.id).state == "open" and not s.scalar(select(func.count()).select_from(AuditLog))
    assert Pay.of(_card(s, "carla", rollup=rollup)) == before
    review_flag(s, flag.id, "sup:maria", "confirm", "listened to five: cut mid-sentence")
    after = Pay.of(_card(s, "carla", rollup=rollup))
    assert cost.after == after and after.composite < before.composite
    expected = ("confirming moves Carla from" if cost.moves_pay else "confirming leaves Carla at")
    assert cost.sentence.startswith(expected) and f"{before.composite:.1f} → {after.composite:.1f}" in cost.sentence
    again = confirm_cost(s, flag.id, rollup=rollup)
    assert again.already_confirmed and again.before == again.after == after
    assert confirm_cost(s, 10**6) is None


def test_a_locked_period_says_the_change_is_paid_as_an_adjustment(build, db_session):
    s = db_session
    flag = _centre(build, s)
    get_or_create_period(s, "2026-11")
    locked = lock_period(s, "2026-10", actor="hr:olga", now=datetime(2026, 11, 2, tzinfo=timezone.utc))
    frozen = dict(locked.snapshot)
    cost = confirm_cost(s, flag.id)
    assert cost.locked and "2026-10 is locked" in cost.sentence and "adjustment" in cost.sentence
    assert cost.to_dict()["after"]["multiplier"] == cost.after.multiplier
    assert locked.snapshot == frozen


def test_a_page_of_findings_builds_the_cards_as_they_stand_once(build, db_session, monkeypatch):
    s = db_session
    carla = _centre(build, s)
    dan = Flag(key="early-hangup:agent:dan:2026-10", kind="early-hangup", agent_id="dan", occurred_at=MONTH_START,
               period_end=datetime(2026, 11, 1, tzinfo=timezone.utc), reason="r",
               evidence={"legs": 30, "observed": 9, "expected": 2.0, "leg_ids": []}, rule_version="t",
               state="confirmed", current=True)
    s.add(dan)
    s.flush()
    one_by_one = {f.id: confirm_cost(s, f.id) for f in (carla, dan)}
    builds = []
    counted = preview.build_scorecards
    monkeypatch.setattr(preview, "build_scorecards", lambda *a, **kw: builds.append(1) or counted(*a, **kw))
    page = confirm_costs(s, [carla.id, dan.id, 10**6])
    assert page == one_by_one                         # the same previews; the missing id left out
    assert len(builds) == 2                           # October as it stands, and Carla's confirmed
    assert page[dan.id].already_confirmed and not page[carla.id].already_confirmed
