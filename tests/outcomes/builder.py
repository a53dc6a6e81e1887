"""Hand-built calls: rows as the webhooks would leave them, with Twilio-derived times."""
from __future__ import annotations

import itertools
import tomllib
from datetime import datetime, timedelta, timezone

from scoring.outcomes.rules import DEFAULT_FILE, parse_rules
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
_sids = itertools.count(1)


def rules(**sections):
    """The shipped rules with some values replaced: rules(truncated={"short_talk_seconds": 40})."""
    with DEFAULT_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    for section, values in sections.items():
        if section == "version":
            data["version"] = values
        else:
            data[section].update(values)
    return parse_rules(data)


def agents(s, *ids, team="red"):
    for agent_id in ids:
        s.add(Agent(id=agent_id, name=agent_id, team=team, skills=["billing", "tech"]))
    s.flush()


def call(s, at=T0, *, number="+15550000001", status="completed", time_source="twilio", after_hours=False,
         visits=()):
    """A call started ``at`` with queue visits; each visit is a dict:
    queue, state (left|abandoned|failed|waiting), wait, and optionally agent, dial (dial status),
    talk, ended_by, survey ({question: value}), transfer (the queue the agent transferred to).
    """
    sid = f"CA{next(_sids):032d}"
    c = Call(sid=sid, from_number=number, to_number="+15559999999", status=status, time_source=time_source,
             started_at=at, ended_at=at + timedelta(minutes=5), duration=300, after_hours=after_hours)
    s.add(c)
    s.flush()
    seq = 0
    for visit_no, v in enumerate(visits, 1):
        entry = QueueEntry(call_sid=sid, visit=visit_no, queue=v.get("queue", "billing"), state=v.get("state", "left"),
                           agent_id=v.get("agent"), wait_seconds=v.get("wait", 10),
                           reason="menu" if visit_no == 1 else v.get("reason", "requeue"))
        s.add(entry)
        s.flush()
        if v.get("agent"):
            seq += 1
            dial = v.get("dial", "completed")
            bridged = dial == "completed"
            leg = Leg(call_sid=sid, seq=seq, entry_id=entry.id, queue=entry.queue, agent_id=v["agent"],
                      queue_seconds=entry.wait_seconds, dial_status=dial, bridged=bridged,
                      talk_seconds=v.get("talk", 120) if bridged else 0,
                      ended_by=v.get("ended_by", "agent") if bridged else None, transfer_queue=v.get("transfer"),
                      survey_state="finished" if v.get("survey") else "not-offered")
            s.add(leg)
            s.flush()
            for question, value in (v.get("survey") or {}).items():
                s.add(SurveyAnswer(leg_id=leg.id, call_sid=sid, agent_id=leg.agent_id, survey_version="t",
                                   question=question, value=value, status="answered"))
    s.flush()
    return c


def handled(agent, talk=120, ended_by="agent", **extra):
    return {"agent": agent, "talk": talk, "ended_by": ended_by, **extra}
