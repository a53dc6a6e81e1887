"""A small, deterministic call centre for the dashboard tests: two teams, four agents,
a few weeks of calls with survey answers, one agent who cuts calls at the 13-minute cap,
flags to review and two pay periods."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from accounts.users import create_user
from scoring.payroll.periods import get_or_create_period
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer, WebhookEvent
from store.flags import Flag

PASSWORD = "correct horse battery"
USERS = {"admin": "admin@example.com", "supervisor": "sup@example.com", "hr": "hr@example.com",
         "agent": "dan@example.com", "agent_ann": "ann@example.com"}
AGENT_USERS = {"agent": "dan", "agent_ann": "ann"}   # agent users: the agent each one is
AGENTS = [("ann", "north"), ("bob", "north"), ("cat", "south"), ("dan", "south")]
START = datetime(2026, 10, 5, 9, 0, tzinfo=timezone.utc)  # a Monday; October 2026 is a closed period
CALLS_PER_AGENT = 24
CUTTER = "dan"
PERIODS = ("2026-10", "2026-11")
PERIOD = "2026-10"


def add_call(s, sid: str, agent_id: str, at: datetime, talk: int, ended_by: str, answers: dict,
             *, queue: str = "billing", wait: int = 12, digits: str = "1") -> Leg:
    s.add(Call(sid=sid, from_number=f"+1555{int(sid[2:]) % 10**7:07d}", language="en", menu_key=digits,
               status="completed", duration=talk + wait + 20, started_at=at, ended_at=at + timedelta(seconds=talk + wait + 20),
               time_source="twilio"))
    s.add(WebhookEvent(call_sid=sid, step="language:1", endpoint="/voice/language", params={"Digits": "1"},
                       received_at=at + timedelta(seconds=3)))
    s.add(WebhookEvent(call_sid=sid, step="menu:1", endpoint="/voice/menu", params={"Digits": digits},
                       received_at=at + timedelta(seconds=8)))
    entry = QueueEntry(call_sid=sid, visit=1, queue=queue, reason="menu", state="left", agent_id=agent_id,
                       result="bridged", wait_seconds=wait, created_at=at + timedelta(seconds=9))
    s.add(entry)
    s.flush()
    leg = Leg(call_sid=sid, seq=1, entry_id=entry.id, queue=queue, agent_id=agent_id, language="en",
              queue_seconds=wait, dial_status="completed", bridged=True, talk_seconds=talk, ended_by=ended_by,
              survey_state="finished" if answers else ("offered" if ended_by == "agent" else "not-offered"),
              survey_version="2026-11-v1", created_at=at + timedelta(seconds=wait + 9))
    s.add(leg)
    s.flush()
    for q, v in answers.items():
        s.add(SurveyAnswer(leg_id=leg.id, call_sid=sid, agent_id=agent_id, survey_version="2026-11-v1",
                           question=q, value=v, status="answered", created_at=at + timedelta(seconds=talk + wait + 15)))
    return leg


def seed(db) -> dict:
    rng = random.Random(6)
    out = {"legs": {}}
    with db.session() as s:
        for agent_id, team in AGENTS:
            s.add(Agent(id=agent_id, name=agent_id.title(), team=team, skills=["billing", "tech"]))
        s.flush()
        for role, email in USERS.items():
            create_user(s, email, PASSWORD, "agent" if role in AGENT_USERS else role, actor="seed",
                        name=AGENT_USERS[role].title() if role in AGENT_USERS else role.title(),
                        agent_id=AGENT_USERS.get(role))
        n = 0
        for agent_id, _ in AGENTS:
            for i in range(CALLS_PER_AGENT):
                n += 1
                at = START + timedelta(days=i % 20, hours=i % 7, minutes=n % 50)
                if agent_id == CUTTER and i % 2 == 0:
                    talk, ended_by = 770 + rng.randint(0, 8), "agent"   # just under the 13-minute cap
                else:
                    talk = rng.randint(90, 900)
                    ended_by = "agent" if rng.random() < 0.4 else "caller"
                answers = {}
                if ended_by == "agent" and rng.random() < 0.7:
                    good = rng.random() < (0.5 if agent_id == CUTTER else 0.85)
                    answers = {"adequate": 1 if good else 2, "satisfaction": rng.randint(4, 5) if good else rng.randint(1, 3),
                               "anything_else": 2}
                sid = f"CA{n:032d}"
                out["legs"][sid] = add_call(s, sid, agent_id, at, talk, ended_by, answers).id
        cut_sid = "CA" + f"{CALLS_PER_AGENT * 3 + 1:032d}"
        flags = [
            Flag(key=f"cap-cut:{cut_sid}", kind="cap-cut", leg_id=out["legs"][cut_sid], call_sid=cut_sid, agent_id=CUTTER,
                 occurred_at=START, reason="agent ended the call 8 s before the 13-minute cap",
                 evidence={"talk_seconds": 772, "cap_seconds": 780}, rule_version="2026-11-r1"),
            Flag(key="truncated:x", kind="truncated", leg_id=out["legs"]["CA" + f"{2:032d}"], call_sid="CA" + f"{2:032d}",
                 agent_id="ann", occurred_at=START + timedelta(days=1), reason="short agent-ended call",
                 evidence={"talk_seconds": 20}, rule_version="2026-11-r1"),
        ]
        october = (datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
        by_agent = {a: [leg for sid, leg in out["legs"].items() if int(sid[2:]) in range(i * CALLS_PER_AGENT + 1,
                                                                                          (i + 1) * CALLS_PER_AGENT + 1)]
                    for i, (a, _) in enumerate(AGENTS)}
        peer_evidence = {"legs": CALLS_PER_AGENT, "observed": 9, "expected": 2.4, "share": 0.375, "expected_share": 0.1,
                         "excess": 0.275, "p_value": 0.0002, "q_value": 0.0008, "agents_tested": 4, "fdr": 0.05,
                         "test": "one-sided exact binomial vs peers on the same queues (indirect standardisation), "
                                 "Benjamini-Hochberg",
                         "by_queue": {"billing": {"legs": CALLS_PER_AGENT, "observed": 9, "peer_share": 0.1}}}
        findings = [
            Flag(key="cap-cliff:agent:dan:2026-10", kind="cap-cliff", agent_id=CUTTER, occurred_at=october[0],
                 period_end=october[1], reason="12 agent-ended calls in the 30 s before the 780 s cap where the "
                 "smooth density predicts 0.8", rule_version="2026-12-r1",
                 evidence={"observed": 12, "expected": 0.8, "p_value": 1e-9, "q_value": 4e-9,
                           "leg_ids": by_agent[CUTTER][::2]}),
            Flag(key="early-hangup:agent:ann:2026-10", kind="early-hangup", agent_id="ann", occurred_at=october[0],
                 period_end=october[1], reason="ended 9 of 24 answered calls (38%) under the short-call threshold",
                 rule_version="2026-12-r1",
                 evidence={**peer_evidence, "threshold_seconds": {"billing": 120}, "leg_ids": by_agent["ann"][:9]}),
            Flag(key="survey-dodging:agent:cat:2026-10", kind="survey-dodging", agent_id="cat", occurred_at=october[0],
                 period_end=october[1], reason="60% of 24 answered calls ended by the caller (no survey)",
                 rule_version="2026-12-r1", evidence={**peer_evidence, "leg_ids": by_agent["cat"][:9]}),
        ]
        flags += findings
        s.add_all(flags)
        for key in PERIODS:
            get_or_create_period(s, key)
        s.flush()
        out["flags"] = {f.kind: f.id for f in flags}
        out["cut_sid"] = cut_sid
    return out
