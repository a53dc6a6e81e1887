"""``/voice/dial/done``: the Dial action; who hung up decides the survey, an unanswered agent goes offline."""

from sqlalchemy import select

from callflow.agents import create_agent
from store.agents import Agent
from store.calls import Leg
from tests.voice.conftest import QUEUES
from tests.voice.driver import ScriptedCall, answers


def test_caller_hangs_up_during_talk_no_survey(twilio, database, agents):
    call = ScriptedCall(twilio, "CA101")
    dial = call.to_agent()
    call.end_dial(dial, agent_hung_up=False, duration=75)
    assert not call.has("Gather") and not call.has("Say")
    call.status(duration=100)
    with database.session() as s:
        leg = s.scalar(select(Leg))
        assert (leg.ended_by, leg.talk_seconds, leg.survey_state) == ("caller", 75, "not-offered")
        assert s.get(Agent, "alice").presence == "available"
    assert answers(database, "CA101") == {}


def test_agent_no_answer_goes_offline_and_caller_returns_to_the_head_of_the_queue(twilio, database, agents):
    with database.session() as s:
        create_agent(s, {"id": "carol", "skills": ["billing"], "presence": "available"}, QUEUES)
    waiting = ScriptedCall(twilio, "CA-other", caller="+15550003333")
    waiting.incoming(); waiting.press("1"); waiting.press("1")  # noqa: E702

    call = ScriptedCall(twilio, "CA103")
    dial = call.to_agent()      # alice is longest idle and is rung first
    assert dial.find("Client").text == "alice"
    call.end_dial(dial, agent_hung_up=True, status="no-answer")
    assert "could not take your call" in call.said()
    enqueue = call.find("Enqueue")
    with database.session() as s:
        assert s.get(Agent, "alice").presence == "offline"
    # The returning caller is ahead of the one who queued before them.
    call.wait()
    assert call.has("Leave")
    dial = call.leave_queue(enqueue).find("Dial")
    assert dial.find("Client").text == "carol"
    waiting.wait()
    assert not waiting.has("Leave") and "number 1 in line" in waiting.said()
    with database.session() as s:
        legs = s.scalars(select(Leg).order_by(Leg.seq)).all()
        assert [(l.agent_id, l.dial_status, l.bridged) for l in legs] == [("alice", "no-answer", False),
                                                                         ("carol", None, None)]

