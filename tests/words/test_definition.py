"""The survey file's ``[record]`` table: when the survey asks for the caller's words, and what
it refuses at start-up."""
from __future__ import annotations

import pytest

from survey.definition import load_survey
from survey.flow import step
from tests.words.conftest import SURVEY, words_survey


def test_words_follow_only_the_chosen_answer(tmp_path):
    survey = load_survey(words_survey(tmp_path), {"en", "ru"})
    assert survey.words.max_length == 30 and survey.words.transcribe == ("en",)
    no, yes = step(survey, 0, "2", 1), step(survey, 0, "1", 1)
    assert no.words and no.next_index == 1 and not yes.words
    assert not step(survey, 1, "2", 1).words                       # a rating of 2 is not "no"
    assert not step(survey, 0, "", 1).words                        # silence re-prompts, no words
    assert load_survey(SURVEY, {"en", "ru"}).words is None        # the shipped file: off


@pytest.mark.parametrize("change, why", [
    ('after = "adequate"', 'after = "nope"'),
    ("on = 2", "on = 7"),
    ('after = "adequate"', 'after = "anything_else"\non = 1'),    # that answer transfers: no "next"
    ("max_length = 30", "max_length = 600"),
    ("timeout = 5", "timeout = 0"),
    ('finish_on_key = "#"', 'finish_on_key = "x"'),
])
def test_bad_record_tables_stop_the_app(tmp_path, change, why):
    path = words_survey(tmp_path)
    text = path.read_text(encoding="utf-8")
    if why.startswith('after = "anything_else"'):
        text = text.replace("on = 2\n", "")
    path.write_text(text.replace(change, why, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[record\]"):
        load_survey(path, {"en", "ru"})


def test_a_missing_translation_stops_the_app(tmp_path):
    path = words_survey(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('thanks = { en = "Thank you, we will look into it.", ', "thanks = { "), encoding="utf-8")
    with pytest.raises(ValueError, match="record thanks"):
        load_survey(path, {"en", "ru"})
