"""Business hours: is the centre open at a given moment, in its own time zone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse_span(span: str) -> tuple[time, time | None]:
    try:
        start, end = span.split("-")
        opens = time.fromisoformat(start.strip())
        closes = None if end.strip() == "24:00" else time.fromisoformat(end.strip())
    except ValueError as exc:
        raise ValueError(f"hours: {span!r} is not HH:MM-HH:MM") from exc
    return opens, closes


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    spans: dict[str, tuple[tuple[time, time | None], ...]]
    holidays: frozenset[date]

    @classmethod
    def from_dict(cls, raw: dict) -> "Schedule":
        unknown = set(raw) - set(DAYS) - {"timezone", "holidays"}
        if unknown:
            raise ValueError(f"hours: unknown keys {sorted(unknown)}")
        return cls(
            tz=ZoneInfo(raw.get("timezone", "UTC")),
            spans={d: tuple(_parse_span(s) for s in raw.get(d, [])) for d in DAYS},
            holidays=frozenset(date.fromisoformat(h) for h in raw.get("holidays", [])),
        )

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(opens <= now and (closes is None or now < closes)
                   for opens, closes in self.spans[DAYS[local.weekday()]])
