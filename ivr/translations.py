"""The check both voice definitions (the IVR menu and the survey) make at start-up: every
language has every prompt and every per-item text, so no caller ever hears a gap."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


def require_translations(what: str, languages: Iterable[str], prompts: Mapping[str, Mapping[str, str]],
                         required: Iterable[str], texts: Mapping[str, Mapping[str, str]]) -> None:
    """Raise ``ValueError`` naming the first language that lacks one of the ``required``
    prompts (``prompts[lang][name]``) or one of the ``texts`` (name -> {lang: text})."""
    required = tuple(required)
    for lang in languages:
        missing = [p for p in required if p not in prompts.get(lang, {})]
        missing += [name for name, by_lang in texts.items() if lang not in by_lang]
        if missing:
            raise ValueError(f"{what}: language {lang!r} lacks {missing}")
