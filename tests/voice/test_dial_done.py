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



def _sup_token(database) -> dict:
    from store.accounts import ApiToken, hash_token
    with database.session() as s:
        s.add(ApiToken(name="console", role="supervisor", token_hash=hash_token("console-token")))
    return {"Authorization": "Bearer console-token"}


def test_agent_transfers_the_caller_out_no_survey_and_the_next_queue_takes_them(twilio, database, agents):
    headers = _sup_token(database)
    api = twilio.client
    call = ScriptedCall(twilio, "CA104")
    dial = call.to_agent()                       # billing: alice
    asked = api.post("/api/agents/alice/transfer", json={"queue": "tech"}, headers=headers)
    assert asked.status_code == 200 and (asked.json["from_queue"], asked.json["transfer_queue"]) == ("billing", "tech")
    call.end_dial(dial, agent_hung_up=True, duration=40)
    assert not call.has("Gather") and "connecting you to an agent" in call.said()
    enqueue = call.find("Enqueue")
    assert enqueue.text == "tech"
    call.wait()
    assert call.has("Leave")
    dial = call.leave_queue(enqueue).find("Dial")
    assert dial.find("Number").text == "+15550002222"     # bob takes tech
    with database.session() as s:
        legs = s.scalars(select(Leg).order_by(Leg.seq)).all()
        first = legs[0]
        assert (first.agent_id, first.ended_by, first.talk_seconds, first.survey_state, first.transfer_queue) == \
            ("alice", "agent", 40, "not-offered", "tech")
        assert [e.reason for e in first.call.entries] == ["menu", "transfer-out"]
        assert s.get(Agent, "alice").presence in ("wrap-up", "available")


def test_a_transfer_the_caller_hung_up_before_is_no_transfer_and_refusals_are_clear(twilio, database, agents):
    headers = _sup_token(database)
    api = twilio.client
    assert api.post("/api/agents/alice/transfer", json={"queue": "tech"}, headers=headers).status_code == 409
    call = ScriptedCall(twilio, "CA105")
    dial = call.to_agent()
    same = api.post("/api/agents/alice/transfer", json={"queue": "billing"}, headers=headers)
    assert same.status_code == 409 and "already" in same.json["error"]
    unknown = api.post("/api/agents/alice/transfer", json={"queue": "nowhere"}, headers=headers)
    assert unknown.status_code == 409 and "queue must be one of" in unknown.json["error"]
    assert api.post("/api/agents/alice/transfer", json={}, headers=headers).status_code == 400
    assert api.post("/api/agents/nobody/transfer", json={"queue": "tech"}, headers=headers).status_code == 404
    assert api.post("/api/agents/alice/transfer", json={"queue": "sales"}, headers=headers).status_code == 200
    call.end_dial(dial, agent_hung_up=False, duration=75)      # the caller hung up first
    assert not call.has("Enqueue") and not call.has("Gather")
    with database.session() as s:
        leg = s.scalar(select(Leg))
        assert (leg.ended_by, leg.transfer_queue) == ("caller", None)
        assert [e.reason for e in leg.call.entries] == ["menu"]


def test_a_transfer_asked_for_on_a_call_that_ends_without_a_dial_action_is_cleared(twilio, database, agents):
    headers = _sup_token(database)
    call = ScriptedCall(twilio, "CA106")
    call.to_agent()
    assert twilio.client.post("/api/agents/alice/transfer", json={"queue": "tech"}, headers=headers).status_code == 200
    call.status(duration=90)                  # the caller hung up; Twilio never requested the Dial action
    with database.session() as s:
        leg = s.scalar(select(Leg))
        assert (leg.ended_by, leg.transfer_queue) == ("caller", None)
        assert s.get(Agent, "alice").presence != "busy"
