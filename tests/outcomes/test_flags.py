"""Flags through the recompute job: stored once, re-evaluated under new rules, reviews kept."""
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from aftercall import jobs
from scoring.outcomes.flags import centre_cliff, cliff_flags, confirmed_flag_counts, dodging_flags, months
from scoring.outcomes.recompute import recompute
from scoring.outcomes.review import ReviewError, review_flag
from scoring.outcomes.rules import DEFAULT_FILE, load_rules
from store.accounts import AuditLog
from store.flags import Flag
from store.jobs import Job, submit
from tests.outcomes.builder import T0, agents, call, handled, rules

MONTH = months(T0, T0 + timedelta(seconds=1))[0]


def _rules_file(tmp_path, name, **replace):
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(database, **kwargs):
    with database.session() as s:
        job_id = submit(s, recompute, created_by="test", **kwargs).id
    assert jobs.run(database, job_id) == "done"
    with database.session() as s:
        return s.get(Job, job_id)


def _flags(database):
    with database.session() as s:
        return {f.key: f for f in s.scalars(select(Flag))}


def test_recompute_keeps_reviews_and_never_duplicates(database, tmp_path):
    with database.session() as s:
        agents(s, "ann", "bob")
        short = call(s, number="+15552220002", visits=[handled("ann", talk=12)])
        capped = call(s, T0 + timedelta(hours=1), number="+15552220003", visits=[handled("ann", talk=775)])
        first = call(s, T0 + timedelta(hours=2), number="+15552220001", visits=[handled("bob", talk=300)])
        call(s, T0 + timedelta(hours=5), number="+15552220001")
        legs = {c.sid: c.legs[0].id for c in (short, capped, first)}
        # One flag per repeat call, as rules 2026-11-r1 left them: one never reviewed, one confirmed.
        s.add_all([Flag(key=f"repeat-call:leg:{legs[first.sid]}", kind="repeat-call", leg_id=legs[first.sid],
                        call_sid=first.sid, agent_id="bob", occurred_at=first.started_at, reason="called again",
                        evidence={}, rule_version="2026-11-r1"),
                   Flag(key=f"repeat-call:leg:{legs[capped.sid]}", kind="repeat-call", leg_id=legs[capped.sid],
                        call_sid=capped.sid, agent_id="ann", occurred_at=capped.started_at, reason="called again",
                        evidence={}, rule_version="2026-11-r1", state="confirmed", reviewed_by="sup:old",
                        review_comment="called back twice")])
    v1 = _rules_file(tmp_path, "v1", **{'short_talk_seconds = "auto"': "short_talk_seconds = 20"})
    job = _run(database, rules_file=v1, batch_calls=2)
    assert job.progress == 1.0
    assert (job.result["created"], job.result["deleted"], job.result["retired"]) == (2, 1, 1)
    flags = _flags(database)
    assert set(flags) == {f"truncated:leg:{legs[short.sid]}", f"cap-cut:leg:{legs[capped.sid]}",
                          f"repeat-call:leg:{legs[capped.sid]}"}
    legacy = flags[f"repeat-call:leg:{legs[capped.sid]}"]   # retired rule: the review stays, not current
    assert (legacy.state, legacy.current, legacy.rule_version, legacy.reviewed_by) == \
        ("confirmed", False, "2026-11-r1", "sup:old")
    truncated = flags[f"truncated:leg:{legs[short.sid]}"]
    assert truncated.evidence["talk_seconds"] == 12 and truncated.evidence["threshold_seconds"] == 20
    assert truncated.agent_id == "ann" and truncated.rule_version == "2026-12-r2" and truncated.state == "open"
    with database.session() as s:
        review_flag(s, truncated.id, "sup:maria", "confirm", "listened to the recording: cut off mid-sentence")
        review_flag(s, flags[f"cap-cut:leg:{legs[capped.sid]}"].id, "sup:maria", "dismiss", "caller asked to stop")
        assert confirmed_flag_counts(s, T0, T0 + timedelta(days=1)) == {"ann": {"truncated": 1, "repeat-call": 1}}
        assert confirmed_flag_counts(s, T0 + timedelta(hours=2), T0 + timedelta(days=1)) == {}
        audit = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        assert [(a.action, a.target, a.detail["comment"]) for a in audit] == [
            ("flag.confirm", f"flag:{truncated.id}", "listened to the recording: cut off mid-sentence"),
            ("flag.dismiss", f"flag:{flags[f'cap-cut:leg:{legs[capped.sid]}'].id}", "caller asked to stop")]

    # New rules: the short call is no longer short.
    v2 = _rules_file(tmp_path, "v2", **{'short_talk_seconds = "auto"': "short_talk_seconds = 10",
                                        'version = "2026-12-r2"': 'version = "2026-12-r3"'})
    job = _run(database, rules_file=v2)
    assert (job.result["deleted"], job.result["retired"], job.result["updated"]) == (0, 1, 1)
    flags = _flags(database)
    assert len(flags) == 3
    kept = flags[f"truncated:leg:{legs[short.sid]}"]
    assert (kept.state, kept.current, kept.reviewed_by, kept.rule_version) == ("confirmed", False, "sup:maria",
                                                                               "2026-12-r2")
    dismissed = flags[f"cap-cut:leg:{legs[capped.sid]}"]
    assert (dismissed.state, dismissed.current, dismissed.rule_version) == ("dismissed", True, "2026-12-r3")
    job = _run(database, rules_file=v2)
    assert (job.result["created"], job.result["deleted"], job.result["retired"]) == (0, 0, 0)
    assert len(_flags(database)) == 3
    with database.session() as s:
        assert confirmed_flag_counts(s, T0, T0 + timedelta(days=1)) == {"ann": {"truncated": 1, "repeat-call": 1}}


def test_review_rejects_bad_input(db_session):
    s = db_session
    agents(s, "ann")
    flag = Flag(key="truncated:leg:x", kind="truncated", agent_id="ann", occurred_at=T0, reason="r",
                evidence={}, rule_version="v")
    s.add(flag)
    s.flush()
    with pytest.raises(ReviewError, match="decision"):
        review_flag(s, flag.id, "sup", "approve", "why")
    with pytest.raises(ReviewError, match="comment"):
        review_flag(s, flag.id, "sup", "dismiss", "  ")
    with pytest.raises(ReviewError, match="no flag"):
        review_flag(s, flag.id + 1, "sup", "dismiss", "why")
    assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def _talk(rng, n):
    return [int(t) for t in np.clip(rng.normal(690, 160, n), 200, 1500)]


def test_cap_cliff_found_for_the_cutter_and_quiet_on_honest_agents(db_session):
    s = db_session
    rng = np.random.default_rng(7)
    honest = ["h1", "h2", "h3", "h4"]
    agents(s, "cutter", *honest)
    for agent_id in honest + ["cutter"]:
        for i, talk in enumerate(_talk(rng, 120)):
            call(s, T0 + timedelta(minutes=i), visits=[handled(agent_id, talk=talk)])
    r = rules()
    assert not centre_cliff(s, T0, T0 + timedelta(days=1), r).significant
    for i, talk in enumerate(rng.integers(752, 780, 25)):  # calls that would have run past 13 min, cut
        call(s, T0 + timedelta(hours=3, minutes=i), visits=[handled("cutter", talk=int(talk))])
    centre = centre_cliff(s, T0, T0 + timedelta(days=1), r)
    assert centre.significant and centre.excess_ratio > 1.3

    flags = cliff_flags(s, MONTH, r)
    assert [f.agent_id for f in flags] == ["cutter"]
    assert flags[0].key == "cap-cliff:agent:cutter:2026-11" and flags[0].evidence["observed"] > 25
    assert flags[0].evidence["agents_tested"] == 5


def test_survey_dodging_against_peers_on_the_same_queues(db_session):
    s = db_session
    agents(s, "dodger", "p1", "p2", "p3", "loner")
    pattern = {"dodger": 8, "p1": 3, "p2": 3, "p3": 2}  # caller-ended calls out of every 10
    for agent_id, per_ten in pattern.items():
        for i in range(40):
            call(s, T0 + timedelta(minutes=i),
                 visits=[handled(agent_id, ended_by="caller" if i % 10 < per_ten else "agent")])
    for i in range(40):  # alone on tech, always caller-ended: no peers, no verdict
        call(s, T0 + timedelta(minutes=i), visits=[handled("loner", ended_by="caller", queue="tech")])
    flags = dodging_flags(s, MONTH, rules())
    assert [f.agent_id for f in flags] == ["dodger"]
    ev = flags[0].evidence
    assert ev["share"] == 0.8 and ev["expected_share"] == pytest.approx(8 / 30, abs=1e-4) and ev["legs"] == 40
    assert not dodging_flags(s, MONTH, rules(dodging={"min_legs": 41}))


def test_rules_file_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="short_talk_seconds"):
        load_rules(_rules_file(tmp_path, "bad", **{'short_talk_seconds = "auto"': 'short_talk_seconds = "soon"'}))
    with pytest.raises(ValueError, match="multiple of 5"):
        load_rules(_rules_file(tmp_path, "bad2", **{"window_seconds = 30": "window_seconds = 33"}))
    with pytest.raises(ValueError, match="does not exist"):
        load_rules(tmp_path / "none.toml")
