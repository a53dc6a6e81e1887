"""``/voice/survey``: each answer stored on arrival; one re-prompt; "anything else" goes back to an agent."""

from sqlalchemy import select

from store.calls import Leg, QueueEntry
from tests.voice.driver import ScriptedCall, answers


def test_survey_wrong_key_reprompts_once_then_records_unanswered(twilio, database, agents):
    call = ScriptedCall(twilio, "CA107")
    dial = call.to_agent()
    call.end_dial(dial, agent_hung_up=True)
    call.press("9")
    assert "not one of the choices" in call.said() and "answered adequately" in call.said()
    call.press("")
    assert "from 1 to 5" in call.said()
    call.press("3")
    # The caller hangs up before the last question: the answers so far are kept.
    call.status(duration=200)
    assert answers(database, "CA107") == {"adequate": (None, "no-input", "alice"),
                                          "satisfaction": (3, "answered", "alice")}
    with database.session() as s:
        assert s.scalar(select(Leg)).survey_state == "offered"


def test_anything_else_returns_to_queue_and_new_leg_belongs_to_same_call(twilio, database, agents):
    call = ScriptedCall(twilio, "CA108")
    dial = call.to_agent()
    call.end_dial(dial, agent_hung_up=True)
    call.press("1"); call.press("4"); call.press("1")  # noqa: E702
    assert "connecting you to an agent again" in call.said()
    enqueue = call.find("Enqueue")
    call.wait()
    assert call.has("Leave")
    dial2 = call.leave_queue(enqueue).find("Dial")
    call.end_dial(dial2, agent_hung_up=False, duration=60)
    with database.session() as s:
        legs = s.scalars(select(Leg).order_by(Leg.seq)).all()
        assert [(l.call_sid, l.seq, l.ended_by) for l in legs] == [("CA108", 1, "agent"), ("CA108", 2, "caller")]
        assert s.scalar(select(QueueEntry).where(QueueEntry.visit == 2)).reason == "transfer-back"
    assert answers(database, "CA108")["anything_else"] == (1, "answered", "alice")

