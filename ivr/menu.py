"""The IVR definition (languages, menu, prompts, hours) loaded and checked from TOML."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ivr.hours import Schedule
from ivr.translations import require_translations

REQUIRED_PROMPTS = (
    "welcome", "choose_language", "menu_intro", "option", "invalid", "no_input", "to_default",
    "closed", "connecting", "position", "expected_wait", "expected_wait_short",
    "agent_unavailable", "error", "goodbye",
)


@dataclass(frozen=True)
class Language:
    key: str
    digit: str
    say_language: str
    voice: str


@dataclass(frozen=True)
class MenuOption:
    digit: str
    queue: str
    label: dict[str, str]


@dataclass(frozen=True)
class Menu:
    version: str
    languages: dict[str, Language]
    default_language: str
    options: tuple[MenuOption, ...]
    default_queue: str
    max_attempts: int
    gather_timeout: int
    prompts: dict[str, dict[str, str]]
    hours: Schedule

    def language(self, key: str | None) -> Language:
        return self.languages.get(key or "", self.languages[self.default_language])

    def language_by_digit(self, digit: str) -> Language:
        return next(lang for lang in self.languages.values() if lang.digit == digit)

    def option_by_digit(self, digit: str) -> MenuOption:
        return next(o for o in self.options if o.digit == digit)

    @property
    def queues(self) -> set[str]:
        return {o.queue for o in self.options} | {self.default_queue}

    def say(self, lang: str | None, key: str, **fmt) -> str:
        return self.prompts[self.language(lang).key][key].format(**fmt)

    def menu_lines(self, lang: str | None) -> list[str]:
        code = self.language(lang).key
        return [self.say(code, "menu_intro")] + [
            self.say(code, "option", label=o.label[code], digit=o.digit) for o in self.options
        ]


def _unique(values: list[str], what: str) -> None:
    dupes = {v for v in values if values.count(v) > 1}
    if dupes:
        raise ValueError(f"menu: duplicate {what}: {sorted(dupes)}")


def load_menu(path: Path | str) -> Menu:
    """Load and validate; a broken file fails at start-up with the reason, never mid-call."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    try:
        languages = {k: Language(k, str(v["digit"]), v["say_language"], v["voice"])
                     for k, v in raw["languages"].items()}
        options = tuple(MenuOption(str(o["digit"]), o["queue"], dict(o["label"])) for o in raw["options"])
        menu = Menu(
            version=str(raw["version"]),
            languages=languages,
            default_language=raw["default_language"],
            options=options,
            default_queue=raw["default_queue"],
            max_attempts=int(raw.get("max_attempts", 3)),
            gather_timeout=int(raw.get("gather_timeout", 5)),
            prompts={k: dict(v) for k, v in raw["prompts"].items()},
            hours=Schedule.from_dict(raw.get("hours", {})),
        )
    except KeyError as exc:
        raise ValueError(f"menu {path}: missing key {exc}") from exc
    _unique([lang.digit for lang in languages.values()], "language digits")
    _unique([o.digit for o in options], "option digits")
    if menu.default_language not in languages:
        raise ValueError(f"menu: default_language {menu.default_language!r} is not a language")
    require_translations("menu", languages, menu.prompts, REQUIRED_PROMPTS,
                         {f"label of {o.digit}": o.label for o in options})
    return menu
