"""The Russian catalog as tests read it: every message as (English, Russian) text pairs."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "dashboard" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def load():
    with PO.open("rb") as f:
        return read_po(f, locale="ru")


def pairs() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every message; a plural gives its singular and plural with each Russian form."""
    out = []
    for m in load():
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            out += [(m.id[0], m.string[0])] + [(m.id[1], form) for form in m.string[1:]]
        else:
            out.append((m.id, m.string))
    return out


def pattern(text: str) -> re.Pattern | None:
    """A regular expression matching ``text`` with any value in each placeholder; None for a
    message with no letters outside its placeholders (it could match anything)."""
    parts, pos, letters = [], 0, False
    for m in PLACEHOLDER.finditer(text):
        literal = text[pos:m.start()]
        letters = letters or any(c.isalpha() for c in literal)
        parts += [re.escape(literal), ".*" if m.group(1) else "%"]
        pos = m.end()
    letters = letters or any(c.isalpha() for c in text[pos:])
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts), re.S) if letters else None


def fixed_parts(text: str) -> list[str]:
    """The literal pieces between placeholders."""
    return [p for p in PLACEHOLDER.split(text) if p]
