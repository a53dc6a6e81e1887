"""Keypad input resolution shared by the IVR and the survey: accept, re-prompt, or give up."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    value: str


@dataclass(frozen=True)
class Retry:
    reason: str  # "invalid" or "no-input"
    next_attempt: int


@dataclass(frozen=True)
class GaveUp:
    reason: str


def resolve_digits(digits: str | None, valid: set[str], attempt: int, max_attempts: int):
    """Decide what a keypress means on the ``attempt``-th try (1-based).

    Silence and wrong keys both re-prompt; after ``max_attempts`` failures the caller
    is never stuck: the decision is ``GaveUp`` and the flow takes its default.
    """
    digits = (digits or "").strip()
    if digits in valid:
        return Accepted(digits)
    reason = "no-input" if digits == "" else "invalid"
    if attempt >= max_attempts:
        return GaveUp(reason)
    return Retry(reason, attempt + 1)
