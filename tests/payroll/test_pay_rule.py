"""Pay rules 2026-12-p2/p3 (issue 19): unanswered calls beyond peers count as unresolved, fewer
answers never pay more, a confirmed finding costs the calls it covers (and is shown before
confirming), every pay row says why, in the exporter's language, and which rule paid."""
from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime, timedelta, timezone

import pytest

from bench.pay_sweep import RIGHT_KIND, cells, detection_rates, sweep
from scoring.payroll.exports import export_period
from scoring.payroll.confirm_cost import confirm_cost
from scoring.payroll.periods import COLUMNS, get_or_create_period, lock_period
from scoring.scorecards.build import build_scorecards
from scoring.scorecards.config import ScoringConfig, load_config
from store.flags import Flag
from tests.payroll.conftest import OCT, T0

SEP = datetime(2026, 9, 7, 9, 0, tzinfo=timezone.utc)


def by_id(cards):
    return {c.agent_id: c for c in cards}


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _centre(build, dodged: int = 0):
    """Five agents answering 30 of 40 calls (10 callers skip the survey); "d" is the same agent
    as "twin" plus ``dodged`` calls its callers hung up on before any survey."""
    for agent in ("p1", "p2", "p3", "twin", "d"):
        build.agent(agent)
        build.answers(agent, 20, 10)
        for k in range(10):
            build.call(agent, at=T0 + timedelta(days=1, minutes=k))
    for k in range(dodged):
        build.call("d", at=T0 + timedelta(days=2, minutes=k))


def test_unanswered_calls_beyond_peers_count_as_unresolved(build, db_session):
    _centre(build, dodged=20)
    cards = by_id(build_scorecards(db_session, *OCT))
    d, twin = cards["d"], cards["twin"]
    excess, var = 20 - 20 * 10 / 40, 60 * 0.25 * 0.75            # beyond the median share, and chance's variance
    assert twin.unanswered_excess == 0 and d.unanswered_excess == pytest.approx(excess - var / excess, abs=0.01)
    assert d.adequacy.raw == twin.adequacy.raw                    # the shown rates: answers only
    assert d.composite.score < twin.composite.score                # pay: the dodged calls are unresolved
    assert d.multiplier <= twin.multiplier
    assert type(d.composite.score) is float                        # not numpy's: the dashboard sorts on it


def test_fewer_answers_never_score_more(build, db_session):
    """Shrunk toward the lowest paying level and taken at the 84 % bound, not the centre: a
    below-average agent hiding answers is not pulled up, a good one is pulled down a little."""
    for agent in ("p1", "p2", "p3", "p4"):
        build.agent(agent)
        build.answers(agent, 30, 10)
    build.agent("poor-many"), build.agent("poor-few"), build.agent("good-many"), build.agent("good-few")
    build.answers("poor-many", 16, 24)
    build.answers("poor-few", 4, 6)
    build.answers("good-many", 36, 4)
    build.answers("good-few", 9, 1)
    cards = by_id(build_scorecards(db_session, *OCT))
    assert cards["poor-few"].composite.score <= cards["poor-many"].composite.score
    assert cards["good-few"].composite.score < cards["good-many"].composite.score
    assert cards["poor-few"].multiplier == 0 and cards["poor-few"].pay_reason == "insufficient"


def test_confirming_is_priced_by_the_calls_the_finding_covers(build, db_session):
    for agent in ("a", "b", "c"):
        build.agent(agent)
        build.answers(agent, 34, 6)
    month = (datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
    flag = Flag(key="early-hangup:agent:a:2026-10", kind="early-hangup", agent_id="a", occurred_at=month[0],
                period_end=month[1], reason="test", rule_version="t", state="open",
                evidence={"legs": 40, "observed": 10, "expected": 2.0, "leg_ids": list(range(1, 11))})
    db_session.add(flag)
    db_session.flush()
    before = by_id(build_scorecards(db_session, *OCT))["a"]
    preview = confirm_cost(db_session, flag.id)
    assert (preview.agent_id, preview.period) == ("a", "2026-10")
    assert (preview.before.tier, preview.before.multiplier) == (before.pay_tier, before.multiplier)
    assert preview.after.composite == pytest.approx(preview.before.composite - 100 * 8 / 40, abs=0.11)  # 10 found, peers 2
    assert preview.after.multiplier < preview.before.multiplier and preview.moves_pay
    assert db_session.get(Flag, flag.id).state == "open"           # nothing written
    flag.state = "confirmed"
    db_session.flush()
    confirmed = by_id(build_scorecards(db_session, *OCT))["a"]
    assert confirmed.covered_calls == pytest.approx(8.0)
    assert (confirmed.pay_tier, confirmed.multiplier) == (preview.after.tier, preview.after.multiplier)
    assert confirmed.pay_reason == "finding-confirmed"


def test_export_rows_say_why_in_the_exporters_language_and_which_rule_paid(build, db_session):
    build.agent("a"), build.agent("b")
    build.answers("a", 5, 2, start=SEP)
    build.answers("b", 30, 5, start=SEP)
    assert COLUMNS[COLUMNS.index("pay_reason"):][:3] == ("pay_reason", "pay_reason_text", "pay_rule_version")
    en = {r["agent_id"]: r for r in read_csv(export_period(db_session, "2026-09", "csv", actor="hr:olga").bytes)}
    ru = {r["agent_id"]: r for r in read_csv(export_period(db_session, "2026-09", "csv", actor="hr:olga",
                                                           lang="ru").bytes)}
    assert en["a"]["pay_reason"] == ru["a"]["pay_reason"] == "insufficient"
    assert en["a"]["pay_reason_text"].startswith("Only 7 survey answers (fewer than 20)")
    assert "7" in ru["a"]["pay_reason_text"] and ru["a"]["pay_reason_text"] != en["a"]["pay_reason_text"]
    assert en["b"]["pay_reason"] == "tier" and f"tier {en['b']['tier']}" in en["b"]["pay_reason_text"]
    assert {r["pay_rule_version"] for r in en.values()} == {load_config().pay_rule}
    assert [k for k in en["a"] if en["a"][k] != ru["a"][k]] == ["pay_reason_text"]


def test_a_rule_change_applies_from_the_next_open_period(build, db_session):
    build.agent("a"), build.agent("b")
    build.answers("a", 19, 0, start=SEP)
    build.answers("b", 15, 10, start=SEP)
    get_or_create_period(db_session, "2026-10")
    old = dataclasses.replace(load_config(), pay_rule="2026-11-p1")
    locked = lock_period(db_session, "2026-09", actor="hr:olga", config=old)
    assert {r["pay_rule_version"] for r in locked.snapshot["rows"]} == {"2026-11-p1"}
    build.call("a", at=SEP + timedelta(days=3), adequate=1, rating=5)       # a late answer
    october = export_period(db_session, "2026-10", "json", actor="hr:olga")
    assert b'"adjustment"' not in october.bytes                             # not re-priced under the new rule
    same_rule = export_period(db_session, "2026-10", "json", actor="hr:olga", config=old)
    assert b'"adjustment"' in same_rule.bytes                               # under its own rule it would be


def test_the_removed_flat_rate_fails_loudly():
    from scoring.scorecards.config import parse_config
    with pytest.raises(ValueError, match="insufficient_multiplier was removed"):
        parse_config({"insufficient_multiplier": 0.5})
    assert ScoringConfig().pay_rule == load_config().pay_rule


def test_small_sweep_gaming_never_pays_and_findings_fire():
    """The suite's slice of ``bench.pay_sweep`` (the full table is docs/scoring.md): one seed,
    30 % and 90 %, every behaviour, with and without follow-ups, before and after confirming."""
    result = sweep(1, intensities=(0.3, 0.9))
    table = cells(result)
    assert len(table) == 6 * 2 * 2
    assert [c for c in table if not c.holds] == []
    rates = detection_rates(result)
    for (behaviour, _p), rate in rates.items():
        if RIGHT_KIND[behaviour] is not None:
            assert rate >= 0.95, (behaviour, rate)
    assert sum(result.honest_flagged) / len(result.honest_flagged) <= 0.05
    # The rule that keeps gaming from paying still ranks honest agents by their quality.
    assert min(result.honest_rho) >= 0.95, result.honest_rho
    # A part-timer with three full months before (carried) is never paid less than without them (probation).
    few = [x for x in result.pairs if x.behaviour == "few_calls"]
    assert few and all(x.gamer >= x.gamer_probation for x in few)
    assert any(x.gamer > x.gamer_probation for x in few)


def test_few_answers_lean_on_the_agents_own_earlier_periods_and_gaming_is_not_banked(build, db_session):
    """Carried (pay rule 2026-12-p3): an agent with few answers this period is shrunk toward
    what its own September supports at the cautious bound, not toward the lowest paying level;
    a new hire stays on probation, and neither a month with a confirmed finding nor a month of
    dodged surveys (charged by the same accountable rule) lifts anyone."""
    for agent in ("p1", "p2", "p3", "p4"):
        build.agent(agent)
        build.answers(agent, 34, 6, start=SEP)
        build.answers(agent, 34, 6)
    for agent in ("vet", "new", "flagged", "dodger"):
        build.agent(agent)
        build.answers(agent, 8, 0)                                   # October: 8 answers, all "yes"
    build.answers("vet", 38, 2, start=SEP)
    build.answers("flagged", 38, 2, start=SEP)
    build.answers("dodger", 38, 2, start=SEP)
    for k in range(40):                                              # ... and 40 callers who never got a survey
        build.call("dodger", at=SEP + timedelta(days=3, minutes=k))
    month = (datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc))
    db_session.add(Flag(key="early-hangup:agent:flagged:2026-09", kind="early-hangup", agent_id="flagged",
                        occurred_at=month[0], period_end=month[1], reason="test", rule_version="t",
                        state="confirmed", evidence={"legs": 40, "observed": 10, "expected": 2.0}))
    db_session.flush()
    cards = by_id(build_scorecards(db_session, *OCT))
    vet, new = cards["vet"], cards["new"]
    assert vet.insufficient and new.insufficient
    assert vet.composite.score > new.composite.score + 5 and vet.multiplier > new.multiplier
    assert vet.pay_reason == "carried" and new.pay_reason == "insufficient"
    for agent in ("flagged", "dodger"):
        assert cards[agent].composite.score == pytest.approx(new.composite.score), agent
    # Never above what September supports at the cautious bound: its 38 of 40 (95 %) less a standard error.
    assert vet.composite.score < 100 * 0.95
    assert build_scorecards(db_session, *OCT, rollup=True)[0].to_dict() == build_scorecards(db_session, *OCT)[0].to_dict()


def test_the_periods_carried_are_the_pay_periods_before_this_one():
    from scoring.scorecards.carried import earlier_periods
    cfg = load_config()                                                      # monthly, Europe/Moscow (UTC+3)
    jan = earlier_periods(datetime(2027, 1, 10, tzinfo=timezone.utc), cfg)
    assert [(s.isoformat(), e.isoformat()) for s, e in jan] == [
        ("2026-11-30T21:00:00+00:00", "2026-12-31T21:00:00+00:00"),
        ("2026-10-31T21:00:00+00:00", "2026-11-30T21:00:00+00:00"),
        ("2026-09-30T21:00:00+00:00", "2026-10-31T21:00:00+00:00")]
    weekly = earlier_periods(datetime(2026, 10, 7, 12, tzinfo=timezone.utc), dataclasses.replace(cfg, period="weekly"))
    assert [s.date().isoformat() for s, _e in weekly] == ["2026-09-27", "2026-09-20", "2026-09-13"]   # Mondays 00:00 MSK
    assert all(e - s == timedelta(days=7) for s, e in weekly)
    assert earlier_periods(T0, dataclasses.replace(cfg, carry_periods=0)) == []
