"""``/voice/status``: status callbacks, applied in order, close the call, its queue visits and legs."""
from datetime import datetime, timezone

from sqlalchemy import select

from store.agents import Agent
from store.calls import Call, Leg, QueueEntry
from tests.voice.driver import ScriptedCall


def test_reordered_status_callbacks_never_overwrite_newer_state(twilio, database):
    call = ScriptedCall(twilio, "CA110")
    call.incoming()
    call.status("completed", duration=42, seq=3, at=datetime(2026, 11, 20, 12, 0, 42, tzinfo=timezone.utc))
    call.status("in-progress", duration=0, seq=2)
    call.status("ringing", duration=0, seq=1)
    with database.session() as s:
        c = s.get(Call, "CA110")
        assert (c.status, c.duration, c.status_seq) == ("completed", 42, 3)
        assert c.started_at == datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def test_status_for_a_caller_who_left_while_matched_frees_the_agent(twilio, database, agents):
    call = ScriptedCall(twilio, "CA111")
    call.incoming(); call.press("1"); call.press("1")  # noqa: E702
    call.wait()
    assert call.has("Leave")
    call.status(duration=30)     # the caller hung up before the Enqueue action arrived
    with database.session() as s:
        assert s.get(Agent, "alice").presence == "available"
        assert s.scalar(select(QueueEntry.state)) == "abandoned"


def test_call_that_ends_without_a_dial_action_frees_the_agent(twilio, database, agents):
    call = ScriptedCall(twilio, "CA115")
    call.to_agent()              # ringing alice; the caller hangs up, no Dial action is requested
    call.status(duration=40)
    with database.session() as s:
        leg = s.scalar(select(Leg))
        assert (leg.dial_status, leg.ended_by) == ("unknown", "caller")
        assert s.get(Agent, "alice").presence == "available"

