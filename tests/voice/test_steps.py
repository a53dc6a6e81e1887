"""The call-flow decisions as plain Python: no server, no database."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aftercall.config import Settings
from callflow.hangup import classify_leg_end
from ivr.choices import Accepted, GaveUp, Retry, resolve_digits
from ivr.hours import Schedule
from ivr.menu import load_menu
from survey.definition import load_survey
from survey.flow import step

settings = Settings.from_env({})
MENU = load_menu(settings.menu_file)
SURVEY = load_survey(settings.survey_file, set(MENU.languages))


def test_menu_file_maps_keys_to_queues_in_both_languages():
    assert {o.digit: o.queue for o in MENU.options} == {"1": "billing", "2": "tech", "3": "sales", "0": "general"}
    assert MENU.language_by_digit("2").say_language == "ru-RU"
    assert "Для технической поддержки нажмите 2." in MENU.menu_lines("ru")
    assert "For technical support, press 2." in MENU.menu_lines("en")


@pytest.mark.parametrize("digits,attempt,expected", [
    ("2", 1, Accepted("2")),
    ("9", 1, Retry("invalid", 2)),
    ("", 2, Retry("no-input", 3)),
    (None, 3, GaveUp("no-input")),
    ("12", 3, GaveUp("invalid")),
])
def test_keypad_resolution(digits, attempt, expected):
    assert resolve_digits(digits, {"1", "2"}, attempt, 3) == expected


def test_broken_menu_file_fails_with_the_reason(tmp_path: Path):
    text = settings.menu_file.read_text(encoding="utf-8").replace('digit = "2"\nqueue = "tech"', 'digit = "1"\nqueue = "tech"')
    bad = tmp_path / "menu.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate option digits"):
        load_menu(bad)
    bad.write_text(settings.menu_file.read_text(encoding="utf-8").replace('goodbye = "Спасибо', 'bye = "Спасибо'),
                   encoding="utf-8")
    with pytest.raises(ValueError, match="'ru' lacks .*goodbye"):
        load_menu(bad)


def test_business_hours_in_the_centre_time_zone():
    schedule = Schedule.from_dict({"timezone": "Europe/Moscow", "mon": ["09:00-18:00"], "holidays": ["2026-11-30"]})
    monday_10_msk = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
    monday_19_msk = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)
    assert schedule.is_open(monday_10_msk)
    assert not schedule.is_open(monday_19_msk)
    assert not schedule.is_open(datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc))  # Tuesday not listed
    assert not schedule.is_open(datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc))  # holiday
    with pytest.raises(ValueError, match="HH:MM"):
        Schedule.from_dict({"mon": ["9-18"]})


@pytest.mark.parametrize("call_status,dial_status,bridged,ended_by,survey,requeue,offline", [
    ("in-progress", "completed", True, "agent", True, False, False),
    ("completed", "completed", True, "caller", False, False, False),
    ("in-progress", "no-answer", False, None, False, True, True),
    ("in-progress", "busy", False, None, False, True, True),
    ("completed", "no-answer", False, None, False, False, True),
    ("completed", "canceled", False, None, False, False, False),
])
def test_who_hung_up(call_status, dial_status, bridged, ended_by, survey, requeue, offline):
    end = classify_leg_end(call_status, dial_status, bridged, 30)
    assert (end.ended_by, end.start_survey, end.requeue, end.agent_unreachable) == (ended_by, survey, requeue, offline)


def test_survey_walks_three_questions_and_forgives_one_mistake():
    assert [q.key for q in SURVEY.questions] == ["adequate", "satisfaction", "anything_else"]
    first = step(SURVEY, 0, "7", 1)
    assert first.record is None and first.reprompt == "invalid" and first.next_index == 0
    second = step(SURVEY, 0, "", 2)
    assert second.record.status == "no-input" and second.record.value is None and second.next_index == 1
    rating = step(SURVEY, 1, "4", 1)
    assert rating.record.value == 4 and rating.next_index == 2
    done = step(SURVEY, 2, "2", 1)
    assert done.finished and done.record.value == 2
    again = step(SURVEY, 2, "1", 1)
    assert again.transfer and not again.finished
