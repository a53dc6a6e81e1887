"""The transfer-out finding: an agent who passes answered calls on to another queue far more
often than peers on the same queues, and not the honest agents of a queue whose callers
often belong elsewhere."""
from datetime import timedelta

from scoring.outcomes.classify import classify_legs
from scoring.outcomes.findings import early_hangup_flags, transfer_out_flags
from scoring.outcomes.flags import months
from scoring.outcomes.peers import peer_tests
from tests.outcomes.builder import T0, agents, call, handled, rules
from tests.outcomes.test_findings import _recompute

MONTH = months(T0, T0 + timedelta(seconds=1))[0]
# (agent, queue, answered calls, of them transferred). The general line passes ~30% on (billing
# questions, broken routers): its agents and the one who splits time with billing are honest.
PLAN = [("g1", "general", 40, 12), ("g2", "general", 40, 10), ("g3", "general", 40, 14),
        ("mix", "general", 30, 9), ("mix", "billing", 10, 1),
        ("b1", "billing", 40, 2), ("b2", "billing", 40, 3), ("b3", "billing", 40, 1),
        ("gamer", "billing", 40, 14)]


def _centre(s):
    agents(s, "g1", "g2", "g3", "mix", "b1", "b2", "b3", "gamer")
    passed = []
    for n, (agent_id, queue, legs, transferred) in enumerate(PLAN):
        for i in range(legs):
            out = i < transferred
            c = call(s, T0 + timedelta(minutes=i, seconds=n), number=f"+1557{n:02d}{i:04d}",
                     visits=[handled(agent_id, talk=20 if out else 300, queue=queue,
                                     transfer=("tech" if queue == "general" else "general") if out else None)])
            if out and agent_id == "gamer":
                passed.append(c.legs[0].id)
    return passed


def test_the_transfer_out_gamer_is_found_and_the_general_line_is_not(db_session):
    passed = _centre(db_session)
    flags = transfer_out_flags(db_session, MONTH, rules())
    assert [f.agent_id for f in flags] == ["gamer"]
    f = flags[0]
    assert f.key == "transfer-out:agent:gamer:2026-11" and f.kind == "transfer-out" and f.period_end == MONTH[1]
    ev = f.evidence
    # Peers on billing: b1-b3 and mix's billing calls, 7 transfers of 130.
    assert (ev["legs"], ev["observed"], ev["share"]) == (40, 14, 0.35)
    assert abs(ev["expected"] - 40 * 7 / 130) < 0.01 and ev["q_value"] <= 0.05 and ev["agents_tested"] == 8
    assert ev["transferred_to"] == {"general": 14} and ev["leg_ids"] == sorted(passed)
    assert "transferred 14 of 40 answered calls (35%)" in f.reason
    # The honest general agents transfer as often as the gamer: only the queue mix tells them apart.
    naive = peer_tests([(a, "all", n, k) for a, _, n, k in PLAN], min_legs=30, alpha=0.05)
    assert {t.agent_id for t in naive if t.significant and t.excess >= 0.10} >= {"g3", "gamer"}
    # The thresholds are what stand between a verdict and none.
    assert not transfer_out_flags(db_session, MONTH, rules(transfer_out={"min_excess": 0.4}))
    assert not transfer_out_flags(db_session, MONTH, rules(transfer_out={"min_legs": 41}))


def test_a_transfer_is_no_early_hang_up_however_short(db_session):
    _centre(db_session)
    short = rules(truncated={"short_talk_seconds": 60})
    outcomes = classify_legs(db_session, *MONTH, short)
    moved = [o for o in outcomes if o.transferred_to]
    assert len(moved) == sum(k for *_, k in PLAN) and not any(o.truncated for o in moved)
    assert not early_hangup_flags(db_session, MONTH, short, outcomes)


def test_recompute_stores_the_finding(database):
    with database.session() as s:
        _centre(s)
    stored = _recompute(database)
    assert [k for k in stored if ":agent:" in k] == ["transfer-out:agent:gamer:2026-11"]
    assert stored["transfer-out:agent:gamer:2026-11"].rule_version == "2026-12-r2"
