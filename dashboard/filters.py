"""The date range a page shows, from its query string: a pay period, or from/to dates.

Dates are the centre's local calendar days (the IVR's business-hours time zone), turned
into a UTC half-open range [start, end) for queries on ``Call.started_at``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dashboard.i18n import InputError, N_, shown

DEFAULT_DAYS = 28
MAX_DAYS = 400
BAD_FROM = N_("The start date must be a date like 2026-11-30, not “%(value)s”; showing the default range.")
BAD_TO = N_("The end date must be a date like 2026-11-30, not “%(value)s”; showing the default range.")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)   # far from datetime's limits in any time zone


class FilterError(InputError):
    """A query-string value the page cannot use; the message says which and why."""


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime
    first_day: date
    last_day: date
    period_key: str | None = None

    def args(self) -> dict:
        """Query-string arguments that reproduce this range on another page."""
        if self.period_key:
            return {"period": self.period_key}
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}


def _day(raw: str, msgid: str) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise FilterError(msgid, value=shown(raw)) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise FilterError(N_("Dates must lie between %(first)s and %(last)s; showing the default range."),
                          first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
    return day


def day_range(first: date, last: date, tz: ZoneInfo, period_key: str | None = None) -> Range:
    if last < first:
        raise FilterError(N_("The end date is before the start date; showing the default range."))
    if (last - first).days > MAX_DAYS:
        raise FilterError(N_("A range can span at most %(days)s days; showing the default range."), days=MAX_DAYS)
    start = datetime.combine(first, time(0), tz).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(timezone.utc)
    return Range(start, end, first, last, period_key)


def from_args(args, tz: ZoneInfo, today: date, periods: dict | None = None) -> Range:
    """``?period=KEY`` (one of ``periods``: key -> (start, end) UTC datetimes), or
    ``?from=&to=`` (inclusive local days), else the last 28 days up to ``today``."""
    key = (args.get("period") or "").strip()
    if key:
        if not periods or key not in periods:
            raise FilterError(N_("There is no period “%(value)s”; showing the default range."), value=shown(key))
        start, end = periods[key]
        return Range(start, end, start.astimezone(tz).date(), (end - timedelta(seconds=1)).astimezone(tz).date(), key)
    last = _day(args["to"], BAD_TO) if (args.get("to") or "").strip() else today
    first = _day(args["from"], BAD_FROM) if (args.get("from") or "").strip() else last - timedelta(days=DEFAULT_DAYS - 1)
    return day_range(first, last, tz)
