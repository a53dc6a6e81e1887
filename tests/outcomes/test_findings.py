"""Agent-level findings against peers (early hang-ups, repeat calls), their recompute with
reviews kept, the review queue (filters, paging) and bulk review."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from aftercall import jobs
from scoring.outcomes.findings import early_hangup_flags, repeat_calls_flags
from scoring.outcomes.flags import months
from scoring.outcomes.peers import bh_q_values
from scoring.outcomes.queue import QueueFilter, finding_periods, list_findings
from scoring.outcomes.recompute import recompute
from scoring.outcomes.review import ReviewError, review_flags
from scoring.outcomes.rules import DEFAULT_FILE
from store.accounts import AuditLog
from store.flags import Flag
from store.jobs import submit
from tests.outcomes.builder import T0, agents, call, handled, rules

MONTH = months(T0, T0 + timedelta(seconds=1))[0]
SHORT = {"truncated": {"short_talk_seconds": 60}}
# Short agent-ended calls out of 40 per agent: peers 4-6 (10-15%), the gamer 16 (40%).
PATTERN = {"gamer": 16, "p1": 4, "p2": 5, "p3": 6, "p4": 4}


def _early_hangup_centre(s):
    agents(s, *PATTERN)
    short_legs = {}
    for agent_id, shorts in PATTERN.items():
        for i in range(40):
            talk = 30 if i < shorts else 240
            c = call(s, T0 + timedelta(minutes=i), number=f"+1555{hash(agent_id) % 1000:03d}{i:04d}",
                     visits=[handled(agent_id, talk=talk)])
            if i < shorts:
                short_legs.setdefault(agent_id, []).append(c.legs[0].id)
        for i in range(2):   # short calls the caller ended are not the agent hanging up
            call(s, T0 + timedelta(hours=2, minutes=i), visits=[handled(agent_id, talk=20, ended_by="caller")])
    agents(s, "loner", team="blue")   # alone on tech: no peers, no verdict whatever he does
    for i in range(40):
        call(s, T0 + timedelta(hours=3, minutes=i), visits=[handled("loner", talk=10, queue="tech")])
    return short_legs


def test_early_hangup_finds_the_planted_agent_not_the_honest_peers(db_session):
    short_legs = _early_hangup_centre(db_session)
    flags = early_hangup_flags(db_session, MONTH, rules(**SHORT))
    assert [f.agent_id for f in flags] == ["gamer"]
    f = flags[0]
    assert f.key == "early-hangup:agent:gamer:2026-11" and f.kind == "early-hangup" and f.period_end == MONTH[1]
    ev = f.evidence
    # Peers on billing: 4 + 5 + 6 + 4 agent-ended short legs of 4 x 42.
    assert (ev["legs"], ev["observed"], ev["share"]) == (42, 16, round(16 / 42, 4))
    assert ev["expected"] == pytest.approx(42 * 19 / 168, abs=0.01) and ev["excess"] > 0.25
    assert ev["p_value"] < 1e-4 and ev["q_value"] <= 0.05 and ev["agents_tested"] == 5
    assert ev["threshold_seconds"] == {"billing": 60} and "binomial" in ev["test"]
    assert ev["leg_ids"] == sorted(short_legs["gamer"])
    # The minimum excess and the minimum of legs are what stand between a verdict and none.
    assert not early_hangup_flags(db_session, MONTH, rules(early_hangup={"min_excess": 0.5}, **SHORT))
    assert not early_hangup_flags(db_session, MONTH, rules(early_hangup={"min_legs": 51}, **SHORT))


def test_repeat_call_outlier_against_peers(db_session):
    s = db_session
    agents(s, "rep", "q1", "q2", "q3")
    behind = []
    for agent_id, repeats in (("rep", 20), ("q1", 3), ("q2", 4), ("q3", 2)):
        for i in range(40):
            number = f"+1556{agent_id}{i:04d}"
            c = call(s, T0 + timedelta(minutes=i), number=number, visits=[handled(agent_id, talk=300)])
            if i < repeats:
                call(s, T0 + timedelta(hours=20, minutes=i), number=number)   # called back the next morning
                if agent_id == "rep":
                    behind.append(c.legs[0].id)
    flags = repeat_calls_flags(s, MONTH, rules())
    assert [f.agent_id for f in flags] == ["rep"]
    ev = flags[0].evidence
    assert (ev["observed"], ev["legs"], ev["expected"]) == (20, 40, pytest.approx(40 * 9 / 120))
    assert ev["leg_ids"] == sorted(behind) and ev["window_hours"] == 72
    assert not repeat_calls_flags(s, MONTH, rules(repeat={"window_hours": 12}))   # the repeats come too late


def test_bh_q_values_match_the_step_up_procedure():
    q = bh_q_values([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])     # 0.03 x 4/2 = 0.06 is stepped down
    assert [v <= 0.05 for v in q] == [True, False, False, False]


def _recompute(database, rules_file=None):
    with database.session() as s:
        kwargs = {"rules_file": rules_file} if rules_file else {}
        job_id = submit(s, recompute, created_by="test", **kwargs).id
    assert jobs.run(database, job_id) == "done"
    with database.session() as s:
        return {f.key: f for f in s.scalars(select(Flag))}


def test_findings_recompute_idempotently_and_keep_their_reviews(database, tmp_path):
    with database.session() as s:
        _early_hangup_centre(s)
    text = tmp_path / "r.toml"
    base = DEFAULT_FILE.read_text(encoding="utf-8").replace('short_talk_seconds = "auto"', "short_talk_seconds = 60")
    text.write_text(base, encoding="utf-8")
    first = _recompute(database, str(text))
    key = "early-hangup:agent:gamer:2026-11"
    assert key in first and [k for k in first if ":agent:" in k] == [key]
    assert len([k for k in first if k.startswith("truncated:")]) == sum(PATTERN.values()) + 40   # + the loner's
    with database.session() as s:
        result = review_flags(s, [first[key].id], "sup:maria", "confirm", "listened to five: cut mid-sentence")
        assert [f.state for f in result.reviewed] == ["confirmed"] and not result.refused
    again = _recompute(database, str(text))
    assert set(again) == set(first)
    kept = again[key]
    assert (kept.id, kept.state, kept.current, kept.reviewed_by) == (first[key].id, "confirmed", True, "sup:maria")
    # Rules that no longer raise it: the reviewed finding stays for the record, not current, out of "open".
    stricter = tmp_path / "r2.toml"
    stricter.write_text(base.replace("min_excess = 0.08", "min_excess = 0.5")
                        .replace('version = "2026-12-r2"', 'version = "2026-12-r3"'), encoding="utf-8")
    after = _recompute(database, str(stricter))
    assert (after[key].state, after[key].current, after[key].rule_version) == ("confirmed", False, "2026-12-r2")
    assert len(_recompute(database, str(stricter))) == len(after)
    with database.session() as s:
        assert list_findings(s).total == 0
        assert [f.key for f in list_findings(s, QueueFilter(state="confirmed")).items] == [key]


def _finding(s, agent_id, kind, month, state="open", current=True):
    start, end = months(month, month + timedelta(seconds=1))[0]
    f = Flag(key=f"{kind}:agent:{agent_id}:{start:%Y-%m}", kind=kind, agent_id=agent_id, occurred_at=start,
             period_end=end, reason="r", evidence={"leg_ids": []}, rule_version="v", state=state, current=current)
    s.add(f)
    s.flush()
    return f


def test_queue_lists_findings_with_filters_and_paging(db_session):
    s = db_session
    agents(s, "ann", "bob")
    agents(s, "cat", team="blue")
    oct_, nov = T0 - timedelta(days=30), T0
    ids = {
        "ann-nov": _finding(s, "ann", "early-hangup", nov).id,
        "bob-nov": _finding(s, "bob", "cap-cliff", nov).id,
        "cat-nov": _finding(s, "cat", "survey-dodging", nov).id,
        "ann-oct": _finding(s, "ann", "repeat-calls", oct_).id,
        "bob-oct-done": _finding(s, "bob", "early-hangup", oct_, state="dismissed").id,
        "gone": _finding(s, "cat", "cap-cliff", oct_, current=False).id,      # open, no longer raised: not listed
        "kept": _finding(s, "cat", "early-hangup", oct_, state="confirmed", current=False).id,
    }
    c = call(s, visits=[handled("ann", talk=5)])
    s.add(Flag(key="truncated:leg:1", kind="truncated", leg_id=c.legs[0].id, call_sid=c.sid, agent_id="ann",
               occurred_at=T0, reason="r", evidence={}, rule_version="v"))
    s.flush()

    def listed(**kw):
        return [f.id for f in list_findings(s, QueueFilter(**kw), limit=None).items]

    assert listed() == [ids["ann-nov"], ids["bob-nov"], ids["cat-nov"], ids["ann-oct"]]   # newest period first
    assert listed(state=None) == [ids["ann-nov"], ids["bob-nov"], ids["cat-nov"], ids["ann-oct"],
                                  ids["bob-oct-done"], ids["kept"]]
    assert listed(team="blue") == [ids["cat-nov"]]
    assert listed(agent_id="ann") == [ids["ann-nov"], ids["ann-oct"]]
    assert listed(kind="early-hangup", state=None) == [ids["ann-nov"], ids["bob-oct-done"], ids["kept"]]
    assert listed(period="2026-10", state=None) == [ids["ann-oct"], ids["bob-oct-done"], ids["kept"]]
    assert listed(kind="truncated") == [s.scalar(select(Flag.id).where(Flag.kind == "truncated"))]  # leg verdicts on request
    assert listed(start=T0, end=T0 + timedelta(days=1)) == [ids["ann-nov"], ids["bob-nov"], ids["cat-nov"]]
    page = list_findings(s, QueueFilter(), offset=2, limit=2)
    assert (page.total, page.first, page.last, [f.id for f in page.items]) == (4, 3, 4, [ids["cat-nov"], ids["ann-oct"]])
    assert finding_periods(s) == ["2026-11", "2026-10"]
    with pytest.raises(ValueError, match="YYYY-MM"):
        list_findings(s, QueueFilter(period="2026-13"))


def test_bulk_review_audits_each_and_reports_what_it_could_not_do(db_session):
    s = db_session
    agents(s, "ann", "bob")
    a = _finding(s, "ann", "early-hangup", T0)
    b = _finding(s, "bob", "cap-cliff", T0)
    with pytest.raises(ReviewError, match="comment"):
        review_flags(s, [a.id, b.id], "sup:maria", "confirm", "  ")
    with pytest.raises(ReviewError, match="decision"):
        review_flags(s, [a.id], "sup:maria", "approve", "why")
    with pytest.raises(ReviewError, match="at least one"):
        review_flags(s, [], "sup:maria", "confirm", "why")
    assert s.scalar(select(AuditLog.id)) is None and {a.state, b.state} == {"open"}
    result = review_flags(s, [a.id, b.id + 100, b.id, a.id], "sup:maria", "dismiss", "callers asked to be called back")
    assert [f.id for f in result.reviewed] == [a.id, b.id] and list(result.refused) == [b.id + 100]
    assert "no flag" in result.refused[b.id + 100]
    audit = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(e.action, e.target, e.detail["comment"], e.detail["kind"]) for e in audit] == [
        ("flag.dismiss", f"flag:{a.id}", "callers asked to be called back", "early-hangup"),
        ("flag.dismiss", f"flag:{b.id}", "callers asked to be called back", "cap-cliff")]
