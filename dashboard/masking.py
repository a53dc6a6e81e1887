"""Caller numbers as the dashboard shows them: masked on every page and in every CSV
(the call list and its CSV, a call's page, the call-back worklist): a supervisor can match the
last digits a caller gives, and never sees the whole number. Payroll exports hold no caller
numbers at all."""
from __future__ import annotations

SHOWN_DIGITS = 4


def mask(number: str | None) -> str:
    """A caller number with all but its last digits hidden: ••••••••4567 ("" for none)."""
    if not number:
        return ""
    if len(number) <= SHOWN_DIGITS + 2:
        return "•" * len(number)
    return "•" * (len(number) - SHOWN_DIGITS) + number[-SHOWN_DIGITS:]
