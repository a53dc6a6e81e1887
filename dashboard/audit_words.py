"""The audit log as HR reads it: each action named, its details in words and the reader's
formats (no codes, no ``null``, no JSON lists), and the routine system entries folded.

The stored entry stays as written (``store.accounts.AuditLog``); only the page words it.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from dashboard.i18n import LABELS, label
from dashboard.templating import local, num

ROUTINE = ("callback.open", "callback.capacity", "callback.call_end")
"""Entries the system writes by the hundred (a task opened, a call-back call's end): folded into
a count line unless asked for."""
ACTIONS = tuple(LABELS["audit_action"])
HIDDEN = frozenset({"leg_id"})   # an internal row id: nothing a reader can look up
OWNERS = {"callback.reassign": ("old", "new"), "callback.team_supervisor": ("old", "new"), "callback.open": ("owner_id",)}
LABELLED = {("callback.state", "old"): "task_state", ("callback.state", "new"): "task_state",
            ("callback.open", "reason"): "task_reason", ("callback.capacity", "old"): "task_state",
            ("callback.call_end", "state"): "attempt_state", ("callback.call_end", "outcome"): "attempt_outcome"}
_TARGET_WORDS = {"task": lambda v: gettext("Call-back task %(id)s", id=v), "flag": lambda v: gettext("Finding %(id)s", id=v),
                 "token": lambda v: gettext("API token %(id)s", id=v), "period": lambda v: gettext("Period %(id)s", id=v),
                 "team": lambda v: gettext("Team %(id)s", id=v)}
_ACTORS = {"system": lambda: gettext("the system"), "twilio": lambda: gettext("Twilio"),
           "anonymous": lambda: gettext("someone not logged in")}


def actor(value: str) -> str:
    said = _ACTORS.get(value)
    return said() if said else value


def target(value: str) -> str:
    kind, _, rest = (value or "").partition(":")
    words = _TARGET_WORDS.get(kind)
    return words(rest) if words and rest else value


def _value(action: str, key: str, value, emails: dict) -> str:
    if key in OWNERS.get(action, ()):
        return emails.get(value, str(value)) if value is not None else gettext("unassigned")
    if value is None or value == "":
        return gettext("none")
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else gettext("none")
    kind = LABELLED.get((action, key)) or {"role": "role", "locale": "language"}.get(key)
    if action.startswith("flag.") and key in ("state", "previous_state"):
        kind = "flag_state"
    elif action.startswith("flag.") and key == "kind":
        kind = "flag_kind"
    if kind:
        return label(kind, value)
    if isinstance(value, float):
        return num(value, 1)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return local(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def details(action: str, detail: dict | None, emails: dict) -> list[tuple[str, str]]:
    """``(what, value)`` in the reader's words; empty values and internal ids left out (an
    owner who is nobody reads "unassigned")."""
    out = []
    for key, value in (detail or {}).items():
        if key in HIDDEN or ((value is None or value == "") and key not in OWNERS.get(action, ())):
            continue
        out.append((label("audit_key", key) if key in LABELS["audit_key"] else key, _value(action, key, value, emails)))
    return out


def user_ids(entries) -> set[int]:
    """The user ids the entries' owner fields name, to look their e-mails up at once."""
    return {v for e in entries for k in OWNERS.get(e.action, ()) if isinstance(v := (e.detail or {}).get(k), int)}
