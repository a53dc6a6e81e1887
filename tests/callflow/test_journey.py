"""The call's state machine as plain Python over the store: no Flask, no TwiML, no server."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from aftercall.config import Settings
from callflow import journey
from callflow.agents import create_agent
from ivr.menu import load_menu
from store.agents import Agent
from store.calls import Call, Leg, QueueEntry, SurveyAnswer
from survey import keypad
from survey.definition import load_survey

settings = Settings.from_env({})
MENU = load_menu(settings.menu_file)
SURVEY = load_survey(settings.survey_file, set(MENU.languages))
CALLER = journey.Caller("CAdomain", "AC1", "+15550001111", "+15559990000")
NOON = datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc)   # a Wednesday, 12:00 in Moscow


@pytest.fixture
def s(database):
    with database.session() as session:
        create_agent(session, {"id": "alice", "skills": ["billing", "general"], "presence": "available"},
                     MENU.queues)
        session.flush()
        yield session


def to_agent(s) -> journey.QueueExit:
    assert journey.arrive(s, CALLER, MENU, NOON) == journey.Arrival(open=True, language=None)
    assert journey.choose_language(s, CALLER, "2", 1, MENU).language == "ru"
    choice = journey.choose_queue(s, CALLER, None, "1", 1, MENU)
    assert (choice.language, choice.entry.queue, choice.retry) == ("ru", "billing", None)
    assert journey.wait_turn(s, CALLER, choice.entry.id, 0, 0, MENU.default_queue).leave
    return journey.leave_queue(s, CALLER, choice.entry.id, "leave", 12, "ru", MENU.default_queue)


def test_a_call_from_arrival_to_survey_answer_and_its_end(s):
    left = to_agent(s)
    assert left.kind == "dial" and left.agent.id == "alice" and left.leg.queue_seconds == 12
    ended = journey.end_leg(s, CALLER, left.leg.id, journey.DialReport("in-progress", "completed", True, 95),
                            survey_version=SURVEY.version, wrapup_seconds=0)
    assert ended.end.start_survey and ended.leg.survey_state == "offered" and ended.leg.ended_by == "agent"
    assert s.get(Agent, "alice").presence == "available"
    taken = keypad.take_answer(s, CALLER.sid, keypad.Keypress(left.leg.id, 0, 1, "1"), SURVEY)
    assert taken.language == "ru" and taken.decision.next_index == 1
    assert journey.report_status(s, CALLER, "completed", 5, 160, datetime(2026, 11, 18, 9, 5, tzinfo=timezone.utc))
    call = s.get(Call, CALLER.sid)
    assert (call.status, call.duration, call.started_at) == ("completed", 160,
                                                             datetime(2026, 11, 18, 9, 2, 20, tzinfo=timezone.utc))
    answer = s.scalar(select(SurveyAnswer))
    assert (answer.question, answer.value, answer.agent_id, answer.channel) == ("adequate", 1, "alice", "call")


def test_an_agent_who_does_not_answer_goes_offline_and_the_caller_is_first_in_line_again(s):
    left = to_agent(s)
    ended = journey.end_leg(s, CALLER, left.leg.id, journey.DialReport("in-progress", "no-answer", False, 0),
                            survey_version=SURVEY.version, wrapup_seconds=0)
    assert not ended.end.start_survey and ended.leg.survey_state == "not-offered"
    assert s.get(Agent, "alice").presence == "offline"
    assert (ended.entry.queue, ended.entry.reason, ended.entry.priority) == ("billing", "requeue", 1)


def test_ids_of_another_call_are_refused(s):
    left = to_agent(s)
    other = journey.Caller("CAother")
    with pytest.raises(journey.NotOnThisCall):
        journey.end_leg(s, other, left.leg.id, journey.DialReport("in-progress", "completed", True, 5),
                        survey_version=SURVEY.version, wrapup_seconds=0)
    with pytest.raises(journey.NotOnThisCall):
        journey.wait_turn(s, other, s.scalar(select(QueueEntry.id)), 0, 0, MENU.default_queue)
    with pytest.raises(keypad.NoSurveyHere):
        keypad.take_answer(s, CALLER.sid, keypad.Keypress(left.leg.id, 0, 1, "1"), SURVEY)   # never offered


def test_a_queue_that_keeps_failing_is_tried_again_then_the_caller_hears_an_apology(s):
    journey.arrive(s, CALLER, MENU, NOON)
    entry = journey.choose_queue(s, CALLER, "en", "1", 1, MENU).entry
    kinds = []
    for _ in range(4):
        left = journey.leave_queue(s, CALLER, entry.id, "error", 3, "en", MENU.default_queue)
        kinds.append(left.kind)
        entry = left.entry
    assert kinds == ["retry", "retry", "retry", "give-up"]
    assert s.scalars(select(Leg)).all() == []

