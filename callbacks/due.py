"""When a call-back is due: by the end of the centre's next business day.

A caller who was let down today hears from a supervisor by the close of the next day the
centre is open (its time zone, its hours and holidays from ``ivr/menu.toml``), so an
evening "no" is not due before anyone could call, and a Friday one is due on Monday.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from ivr.hours import DAYS, Schedule

SEARCH_DAYS = 370   # a schedule with no open day in a year is a broken file, not a long weekend


def next_business_day_end(schedule: Schedule, at: datetime) -> datetime:
    """The close of the first business day after ``at``'s local day (UTC-aware)."""
    day = at.astimezone(schedule.tz).date()
    for _ in range(SEARCH_DAYS):
        day += timedelta(days=1)
        spans = schedule.spans[DAYS[day.weekday()]]
        if not spans or day in schedule.holidays:
            continue
        closes = [c for _, c in spans]
        if any(c is None for c in closes):   # open until midnight: due at the end of that day
            end = datetime.combine(day + timedelta(days=1), time(0), schedule.tz)
        else:
            end = datetime.combine(day, max(closes), schedule.tz)
        return end.astimezone(at.tzinfo)
    raise ValueError("the business hours have no open day within a year")


def due_at(schedule: Schedule, at: datetime, due_hours: int | None = None) -> datetime:
    """``CALLBACK_DUE_HOURS`` after ``at`` when set, else the next business day's close."""
    if due_hours:
        return at + timedelta(hours=due_hours)
    return next_business_day_end(schedule, at)
