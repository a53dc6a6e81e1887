"""Whole calls through every voice webhook, and what holds across steps: duplicates, errors."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from store.agents import Agent
from store.calls import Call, Leg, SurveyAnswer
from tests.voice.driver import ScriptedCall, answers


def test_full_journey_agent_hangs_up_and_caller_answers_survey(twilio, database, agents):
    call = ScriptedCall(twilio, "CA100")
    doc = call.incoming()
    assert "For English, press 1." in call.said() and "русском" in call.said()
    voices = {s.get("language"): s.get("voice") for s in doc.iter("Say")}
    assert voices == {"en-US": "Polly.Joanna", "ru-RU": "Polly.Tatyana"}
    call.press("1")
    assert "For billing and payments, press 1." in call.said()
    call.press("1")
    enqueue = call.find("Enqueue")
    assert enqueue.text == "billing"
    call.wait(queue_time=25)
    assert call.has("Leave")
    dial = call.leave_queue(enqueue, queue_time=25).find("Dial")
    assert dial.find("Client").text == "alice"
    with database.session() as s:
        assert s.get(Agent, "alice").presence == "busy"

    call.end_dial(dial, agent_hung_up=True, duration=184)
    assert "Were your questions answered adequately?" in call.said()
    call.press("1")
    assert "from 1 to 5" in call.said()
    call.press("5")
    assert "anything else" in call.said()
    call.press("2")
    assert call.has("Hangup") and "Thank you for your answers" in call.said()
    call.status(duration=290, at=datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc))

    assert answers(database, "CA100") == {"adequate": (1, "answered", "alice"),
                                          "satisfaction": (5, "answered", "alice"),
                                          "anything_else": (2, "answered", "alice")}
    with database.session() as s:
        leg = s.scalar(select(Leg))
        assert (leg.queue_seconds, leg.talk_seconds, leg.ended_by, leg.survey_state) == (25, 184, "agent", "finished")
        assert s.get(Agent, "alice").presence == "available"
        c = s.get(Call, "CA100")
        assert (c.language, c.menu_key, c.status, c.duration) == ("en", "1", "completed", 290)
        assert c.started_at == datetime(2026, 11, 20, 10, 0, 10, tzinfo=timezone.utc)
        assert c.time_source == "twilio"


def test_duplicate_deliveries_change_nothing(twilio, database, agents):
    call = ScriptedCall(twilio, "CA109")
    dial = call.to_agent()
    first = call.end_dial(dial, agent_hung_up=True)
    gather_url = call.find("Gather").get("action")
    again = call.end_dial(dial, agent_hung_up=True)
    assert again.find(".//Gather").get("action") == gather_url
    call.post(gather_url, Digits="2")
    call.post(gather_url, Digits="2")
    call.post(gather_url, Digits="1")    # a retry can't change a stored answer either
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyAnswer)) == 1
        assert s.scalar(select(SurveyAnswer.value)) == 2
        assert s.scalar(select(func.count()).select_from(Leg)) == 1
    assert first is not None


def test_errors_inside_a_webhook_still_answer_twiml(twilio, database):
    call = ScriptedCall(twilio, "CA113")
    call.post("/voice/dial/done?leg=999&lang=ru", DialCallStatus="completed")  # unknown leg
    assert call.has("Hangup") and "ошибка" in call.said()
    call.post("/voice/survey?leg=abc")
    assert call.has("Hangup")
    doc = call.post("/voice/menu?attempt=1&lang=en", Digits="1")
    assert call.has("Enqueue") and doc.find(".//Enqueue").text == "billing"

