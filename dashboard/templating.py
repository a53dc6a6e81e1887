"""Jinja filters that format numbers, dates and durations the same way on every page, in the
reader's language (Babel's locale data: "72%" / "72 %", "1.2 s" / "1,2 с"), and "—" for none."""
from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_day_names
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit
from flask import Flask
from flask_babel import format_date, get_locale, get_timezone, gettext

from dashboard.masking import mask

NONE = "—"
P_FLOOR = 0.0001


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value, digits: int = 0) -> str:
    fmt = "#,##0%" if digits == 0 else "#,##0." + "0" * digits + "%"
    return NONE if _missing(value) else format_percent(value, fmt, locale=get_locale())


def num(value, digits: int = 1) -> str:
    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return NONE if _missing(value) else format_decimal(value, fmt, locale=get_locale())


def count(value) -> str:
    """A whole number with the reader's digit grouping: 1,548 / 1 548."""
    return num(value, 0)


def seconds(value, digits: int = 1) -> str:
    """A duration in seconds with its unit: "1.2 s" / "1,2 с"."""
    if _missing(value):
        return NONE
    fmt = "#,##0" if digits == 0 else "#,##0." + "#" * digits
    return format_unit(value, "duration-second", length="short", format=fmt, locale=get_locale())


def _no_data(est) -> bool:
    """No estimate, or one made of no answers at all (the prior alone: not the agent's)."""
    return est is None or _missing(getattr(est, "mean", None)) or getattr(est, "n", None) == 0


def rate(value, base) -> str:
    """A share of ``base`` things: 0% when there were some and none counted, "—" when there were none."""
    return pct(0.0 if _missing(value) and base else value)


def interval(est) -> str:
    """An Estimate as "72% (65–79%)"; "—" when it has no data."""
    if _no_data(est):
        return NONE
    return f"{pct(est.mean)} ({pct(est.low)}–{pct(est.high)})"


def rating(est) -> str:
    """A 1-5 mean as "4.21 (3.9–4.5)"."""
    if _no_data(est):
        return NONE
    return f"{num(est.mean, 2)} ({num(est.low)}–{num(est.high)})"


def pvalue(value, name: str = "p") -> str:
    """A p- or q-value a reader can take in, with its name: "p = 0.034", "q = 0.0008",
    "p < 0.0001" (never "5.3e-16"); two significant digits, the reader's decimal sign."""
    if _missing(value):
        return f"{name} = {NONE}"
    if value < P_FLOOR:
        return f"{name} < {format_decimal(P_FLOOR, '0.0###', locale=get_locale())}"
    return f"{name} = {format_decimal(value, '@#', locale=get_locale())}"


def mmss(value) -> str:
    if _missing(value):
        return NONE
    value = int(round(value))
    return f"{value // 60}:{value % 60:02d}"


def size(value) -> str:
    """A file size in bytes or kilobytes, with the unit in the reader's language."""
    if value is None:
        return NONE
    if value < 1024:
        return format_unit(value, "digital-byte", length="short", locale=get_locale())
    return format_unit(value / 1024, "digital-kilobyte", length="short", format="#,##0.#", locale=get_locale())


# strftime patterns the templates pass -> (date skeleton, time format) in the reader's language
FORMATS = {"%Y-%m-%d": ("yMMMd", None), "%Y-%m-%d %H:%M": ("yMMMd", "short"),
           "%Y-%m-%d %H:%M:%S": ("yMMMd", "medium")}
MONTH_KEY = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
WEEK_KEY = re.compile(r"(\d{4})-W(\d{2})")


def month_name(value: date) -> str:
    """A month as a name stands alone: "November 2026" / "ноябрь 2026" (CLDR's standalone 'LLLL')."""
    return format_date(value, "LLLL y")


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime in the centre's time zone, written the reader's way ("30 нояб. 2026 г., 14:05")."""
    if value is None:
        return NONE
    value = value.astimezone(get_timezone())
    if fmt == "month":
        return month_name(value.date())
    day_skeleton, time_format = FORMATS.get(fmt, FORMATS["%Y-%m-%d %H:%M"])
    shown = format_skeleton(day_skeleton, value, locale=get_locale())
    return f"{shown}, {format_time(value, time_format, locale=get_locale())}" if time_format else shown


def deadline(value: datetime | None) -> str:
    """A time something is due by: local midnight is the end of the day before ("7 Dec, 24:00"),
    as the business hours say it, not the start of the next day."""
    if value is None:
        return NONE
    at = value.astimezone(get_timezone())
    if at.hour == at.minute == at.second == 0:
        return f"{format_skeleton('yMMMd', at - timedelta(days=1), locale=get_locale())}, 24:00"
    return local(value)


def last_day(end: datetime | None) -> str:
    """The last local day of a half-open [start, end) range."""
    return NONE if end is None else local(end - timedelta(seconds=1), "%Y-%m-%d")


def day(value) -> str:
    """A calendar date (no time zone) the reader's way."""
    return NONE if value is None else format_skeleton("yMMMd", value, locale=get_locale())


def period_label(key: str | None) -> str:
    """A period key as the reader says it: "2026-11" is "November 2026" / "ноябрь 2026", a
    week "2026-W47" its Monday to Sunday; anything else as it is."""
    if not key:
        return NONE
    if m := MONTH_KEY.fullmatch(key):
        return month_name(date(int(m[1]), int(m[2]), 1))
    if m := WEEK_KEY.fullmatch(key):
        try:
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            return key
        return f"{day(monday)} – {day(monday + timedelta(days=6))}"
    return key


def flag_when(flag) -> str:
    """When a finding happened: its month for a monthly finding (it has a ``period_end``), else
    its date and time."""
    if flag.period_end is None:
        return local(flag.occurred_at)
    return local(flag.occurred_at + (flag.period_end - flag.occurred_at) / 2, "month")


def week(schedule) -> list[tuple[str, list[str]]]:
    """Business hours as (day name, ["09:00–18:00", ...]) from Monday, in the reader's language;
    a span with no end is open until midnight."""
    names = get_day_names("wide", locale=get_locale())
    return [(names[i], [f"{opens:%H:%M}–{closes:%H:%M}" if closes else f"{opens:%H:%M}–24:00"
                        for opens, closes in schedule.spans.get(key, ())])
            for i, key in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))]


def multiplier(value) -> str:
    """A pay multiplier as "×0.5" / "×0,5"."""
    return NONE if _missing(value) else "×" + format_decimal(value, "#,##0.0#", locale=get_locale())


def language_name(code: str) -> str:
    """A language code ("en", "ru-RU") as its name in the reader's language; unknown codes as they are."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(get_locale()) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def penalty(value) -> str:
    """A composite's flag penalty: "none" when nothing is taken off, never "−0.0"."""
    return gettext("none") if _missing(value) or round(value, 1) == 0 else "−" + num(value)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(pct=pct, interval=interval, rating=rating, rate=rate, mmss=mmss, local=local,
                                 last_day=last_day, deadline=deadline, num=num, count=count, seconds=seconds,
                                 pvalue=pvalue, size=size,
                                 day=day, penalty=penalty, period_label=period_label,
                                 flag_when=flag_when, mask=mask, language_name=language_name,
                                 multiplier=multiplier)
    app.jinja_env.globals.update(week=week, language_name=language_name)
