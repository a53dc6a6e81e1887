"""``/voice/queue/done``: the Enqueue action; a reserved caller is dialled, a hang-up is an abandonment."""

from sqlalchemy import func, select

from store.calls import Leg, QueueEntry
from tests.voice.driver import ScriptedCall


def test_caller_hangs_up_in_queue_is_an_abandonment_with_its_wait(twilio, database):
    call = ScriptedCall(twilio, "CA102")
    call.incoming()
    call.press("1")
    call.press("2")
    enqueue = call.find("Enqueue")
    call.wait(queue_time=30)
    assert "number 1 in line" in call.said() and call.has("Pause")
    call.leave_queue(enqueue, result="hangup", queue_time=47)
    call.status(duration=80)
    with database.session() as s:
        entry = s.scalar(select(QueueEntry))
        assert (entry.queue, entry.state, entry.result, entry.wait_seconds) == ("tech", "abandoned", "hangup", 47)
        assert s.scalar(select(func.count()).select_from(Leg)) == 0


def test_agent_with_a_phone_number_is_dialled_by_number(twilio, agents):
    dial = ScriptedCall(twilio, "CA104").to_agent(option="2")
    assert dial.find("Number").text == "+15550002222" and dial.find("Client") is None

