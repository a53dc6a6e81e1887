"""Whole calls through the signed webhooks, on SQLite and PostgreSQL."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from callflow.agents import create_agent
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer
from tests.journey.driver import ScriptedCall

QUEUES = {"billing", "tech", "sales", "general"}


@pytest.fixture
def agents(database):
    with database.session() as s:
        create_agent(s, {"id": "alice", "name": "Alice", "team": "north", "skills": ["billing", "general"],
                         "presence": "available"}, QUEUES)
        create_agent(s, {"id": "bob", "name": "Bob", "team": "north", "skills": ["tech"],
                         "phone": "+15550002222", "presence": "available"}, QUEUES)


def answers(database, sid):
    with database.session() as s:
        return {a.question: (a.value, a.status, a.agent_id)
                for a in s.scalars(select(SurveyAnswer).where(SurveyAnswer.call_sid == sid))}


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


def test_agent_with_a_phone_number_is_dialled_by_number(twilio, agents):
    dial = ScriptedCall(twilio, "CA104").to_agent(option="2")
    assert dial.find("Number").text == "+15550002222" and dial.find("Client") is None


def test_wrong_keys_and_silence_reprompt_then_default_queue(twilio, database):
    call = ScriptedCall(twilio, "CA105")
    call.incoming()
    call.press("2")                      # Russian
    call.press("7")
    assert "Извините, такого варианта нет." in call.said() and call.has("Gather")
    call.press("")
    assert "не услышала" in call.said()
    call.press("#")
    enqueue = call.find("Enqueue")
    assert enqueue.text == "general" and "первым свободным оператором" in call.said()
    with database.session() as s:
        entry = s.scalar(select(QueueEntry))
        assert (entry.queue, entry.reason) == ("general", "default")
        assert s.get(Call, "CA105").language == "ru"


def test_language_silence_three_times_defaults_to_english(twilio):
    call = ScriptedCall(twilio, "CA106")
    call.incoming()
    call.press("")
    assert "did not hear" in call.said()
    call.press("")
    call.press("")
    assert "For billing and payments, press 1." in call.said()


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


def test_after_hours_callers_hear_the_closing_message(database, tmp_path):
    from aftercall.app import create_app
    from aftercall.config import ROOT
    from tests.conftest import TwilioClient, make_settings
    text = (ROOT / "ivr" / "menu.toml").read_text(encoding="utf-8")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        text = text.replace(f'{day} = ["00:00-24:00"]', f"{day} = []")
    menu = tmp_path / "menu.toml"
    menu.write_text(text, encoding="utf-8")
    app = create_app(make_settings(database, MENU_FILE=str(menu)), db=database)
    call = ScriptedCall(TwilioClient(app.test_client()), "CA112")
    call.incoming()
    assert "We are closed" in call.said() and call.has("Hangup") and not call.has("Gather")
    with database.session() as s:
        assert s.get(Call, "CA112").after_hours


def test_errors_inside_a_webhook_still_answer_twiml(twilio, database):
    call = ScriptedCall(twilio, "CA113")
    call.post("/voice/dial/done?leg=999&lang=ru", DialCallStatus="completed")  # unknown leg
    assert call.has("Hangup") and "ошибка" in call.said()
    call.post("/voice/survey?leg=abc")
    assert call.has("Hangup")
    doc = call.post("/voice/menu?attempt=1&lang=en", Digits="1")
    assert call.has("Enqueue") and doc.find(".//Enqueue").text == "billing"


def test_a_retried_wait_request_hears_the_same_announcement(twilio):
    call = ScriptedCall(twilio, "CA114")
    call.incoming(); call.press("1"); call.press("3")  # noqa: E702
    wait_url = call.find("Enqueue").get("waitUrl")

    def wait(queue_time):
        call.post(wait_url, QueuePosition=1, QueueTime=queue_time, QueueSid="QU1", AvgQueueTime=0)
        return call.said()

    first = wait(12)
    assert "number 1 in line" in first
    assert wait(12) == first          # Twilio's retry of the same request
    assert wait(20) == "" and call.has("Pause")


def test_call_that_ends_without_a_dial_action_frees_the_agent(twilio, database, agents):
    call = ScriptedCall(twilio, "CA115")
    call.to_agent()              # ringing alice; the caller hangs up, no Dial action is requested
    call.status(duration=40)
    with database.session() as s:
        leg = s.scalar(select(Leg))
        assert (leg.dial_status, leg.ended_by) == ("unknown", "caller")
        assert s.get(Agent, "alice").presence == "available"
