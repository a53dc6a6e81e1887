"""The definition of each reported ratio, in one place: scorecards, team summaries, the SLA
report and the dashboard's centre totals all compute their rates through these."""
from __future__ import annotations


def rate(part: float, whole: float) -> float | None:
    """``part / whole``; None (not zero) when there is nothing to divide by."""
    return part / whole if whole else None


def satisfaction_index(good: int, answers: int) -> float | None:
    """The satisfaction index: of the adequacy and rating answers together, the share that were
    good ("yes", or a rating in the top box): one figure for a caller and for the centre."""
    return rate(good, answers)


def response_rate(completed: int, offered: int) -> float | None:
    """Surveys completed / surveys offered."""
    return rate(completed, offered)


def aht(talk_seconds: float, handled: int) -> float | None:
    """Average handle time: the talk seconds of the handled legs over how many there are."""
    return rate(talk_seconds, handled)


def asa(wait_seconds: float, handled: int) -> float | None:
    """Average speed of answer: the queue seconds of the handled visits over how many there are."""
    return rate(wait_seconds, handled)
