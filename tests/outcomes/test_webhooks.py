"""Calls driven through the real signed webhooks, then classified from what they stored."""
from datetime import datetime, timedelta, timezone

from callflow.agents import create_agent
from scoring.outcomes.classify import classify_calls, classify_legs
from scoring.outcomes.sla import sla_report
from tests.voice.driver import ScriptedCall
from tests.outcomes.builder import rules

END_1 = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)


def test_agent_hang_up_with_no_then_a_repeat_call(twilio, database):
    with database.session() as s:
        create_agent(s, {"id": "alice", "team": "north", "skills": ["billing"], "presence": "available"},
                     {"billing", "tech", "sales", "general"})
    first = ScriptedCall(twilio, "CA-first", caller="+15557770001")
    dial = first.to_agent(queue_time=12)
    first.end_dial(dial, agent_hung_up=True, duration=184)
    first.press("2")   # not answered adequately
    first.press("2")
    first.press("2")
    first.status(duration=290, at=END_1)

    again = ScriptedCall(twilio, "CA-again", caller="+15557770001")
    again.incoming()
    again.press("1")
    enqueue = again.press("1").find("Enqueue")
    again.leave_queue(enqueue, result="hangup", queue_time=40)
    again.status(duration=70, at=END_1 + timedelta(hours=20))

    start, end = END_1 - timedelta(hours=1), END_1 + timedelta(days=1)
    with database.session() as s:
        legs = classify_legs(s, start, end, rules(truncated={"short_talk_seconds": 30}))
        assert len(legs) == 1
        leg = legs[0]
        assert (leg.agent_id, leg.outcome, leg.ended_by, leg.talk_seconds, leg.wait_seconds) == \
            ("alice", "handled", "agent", 184, 12)
        assert leg.truncated is False and leg.adequate is False     # said "no" after 184 s: not truncated
        assert leg.repeat_call_sid == "CA-again"
        assert leg.started_at == END_1 - timedelta(seconds=290)   # Twilio's time, not the server's
        calls = {c.call_sid: (c.outcome, c.queue_wait_seconds) for c in classify_calls(s, start, end)}
        assert calls == {"CA-first": ("handled", 12), "CA-again": ("queue-abandoned", 40)}
        [billing] = sla_report(s, start, end)
        assert (billing.offered, billing.handled, billing.abandoned, billing.service_level) == (2, 1, 1, 0.5)
