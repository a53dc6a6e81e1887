"""The survey definition: versioned questions and prompts in every language."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ivr.translations import require_translations

REQUIRED_PROMPTS = ("intro", "invalid", "no_input", "thanks", "transfer")


@dataclass(frozen=True)
class Question:
    key: str
    valid: tuple[int, ...]
    text: dict[str, str]
    transfer_on: int | None = None


@dataclass(frozen=True)
class WordsSetting:
    """The caller's own words (the survey file's ``[record]``): after ``on`` to the question
    ``after``, a short ``<Record>`` with ``prompt`` before the beep and ``thanks`` after;
    Twilio transcribes only the languages in ``transcribe`` (its ``<Record>`` transcription is
    English-only), the others keep the recording alone."""
    after: str
    on: int
    prompt: dict[str, str]
    thanks: dict[str, str]
    max_length: int = 30
    timeout: int = 5
    finish_on_key: str = "#"
    transcribe: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class Survey:
    version: str
    questions: tuple[Question, ...]
    prompts: dict[str, dict[str, str]]
    max_attempts: int = 2
    gather_timeout: int = 5
    words: WordsSetting | None = None   # None: the survey never asks for the caller's words

    def asks_words(self, question: str, value: int) -> bool:
        return self.words is not None and self.words.after == question and self.words.on == value

    def say(self, lang: str, key: str) -> str:
        return self.prompts[lang][key]

    def question(self, index: int) -> Question:
        return self.questions[index]


def load_survey(path: Path | str, languages: set[str]) -> Survey:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    try:
        questions = tuple(
            Question(q["key"], tuple(int(v) for v in q["valid"]), dict(q["text"]), q.get("transfer_on"))
            for q in raw["questions"]
        )
        survey = Survey(str(raw["version"]), questions, {k: dict(v) for k, v in raw["prompts"].items()},
                        int(raw.get("max_attempts", 2)), int(raw.get("gather_timeout", 5)),
                        words_setting(raw.get("record") or {}))
    except KeyError as exc:
        raise ValueError(f"survey {path}: missing key {exc}") from exc
    if not questions:
        raise ValueError("survey: no questions")
    if len({q.key for q in questions}) != len(questions):
        raise ValueError("survey: duplicate question keys")
    for q in questions:
        if any(not 0 <= v <= 9 for v in q.valid):
            raise ValueError(f"survey: question {q.key!r} has a value that is not a single key")
        if q.transfer_on is not None and q.transfer_on not in q.valid:
            raise ValueError(f"survey: {q.key!r} transfer_on is not a valid answer")
    words = survey.words
    if words is not None:
        asked = next((q for q in questions if q.key == words.after), None)
        if asked is None or words.on not in asked.valid or asked.transfer_on == words.on:
            raise ValueError(f"survey: [record] after={words.after!r} on={words.on} is not an answer that goes on")
        if not 2 <= words.max_length <= 120 or not 1 <= words.timeout <= 30:
            raise ValueError("survey: [record] max_length must be 2-120 s (Twilio transcribes up to 120 s), "
                             "timeout 1-30 s")
        if words.finish_on_key and any(c not in "0123456789#*" for c in words.finish_on_key):
            raise ValueError("survey: [record] finish_on_key must be digits, # or *")
    require_translations("survey", languages, survey.prompts, REQUIRED_PROMPTS,
                         {f"text of {q.key}": q.text for q in questions}
                         | ({"record prompt": words.prompt, "record thanks": words.thanks} if words else {}))
    return survey


def words_setting(raw: dict) -> WordsSetting | None:
    """A survey file's ``[record]`` table; None unless ``enabled``."""
    if not raw.get("enabled", False):
        return None
    return WordsSetting(str(raw.get("after", "adequate")), int(raw.get("on", 2)), dict(raw["prompt"]),
                        dict(raw["thanks"]), int(raw.get("max_length", 30)), int(raw.get("timeout", 5)),
                        str(raw.get("finish_on_key", "#")), tuple(raw.get("transcribe", ("en",))))
