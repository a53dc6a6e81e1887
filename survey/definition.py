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
class Survey:
    version: str
    questions: tuple[Question, ...]
    prompts: dict[str, dict[str, str]]
    max_attempts: int = 2
    gather_timeout: int = 5

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
                        int(raw.get("max_attempts", 2)), int(raw.get("gather_timeout", 5)))
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
    require_translations("survey", languages, survey.prompts, REQUIRED_PROMPTS,
                         {f"text of {q.key}": q.text for q in questions})
    return survey
