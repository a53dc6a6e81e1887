"""The follow-up policy (``survey/followup.toml``): per queue, the channel, the sampling
rate, the delay, quiet hours, the one-survey-per-number window and the reply expiry; and the
one rule about time it implies: when a follow-up may go out."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.translations import require_translations

POLICY_CHANNELS = ("sms", "call", "none")


@dataclass(frozen=True)
class QueuePolicy:
    channel: str = "sms"
    sample_rate: float = 1.0
    delay_minutes: int = 10
    quiet_hours: tuple[time, time] | None = (time(21), time(9))
    one_survey_per_days: int = 30
    expiry_hours: int = 24

    @property
    def answer_channel(self) -> str:
        """The channel answers are stored under (``survey.answers.CHANNELS``)."""
        return "callback" if self.channel == "call" else self.channel


@dataclass(frozen=True)
class FollowupPolicy:
    tz: ZoneInfo
    default: QueuePolicy = QueuePolicy()
    queues: dict[str, QueuePolicy] = field(default_factory=dict)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    """What the SMS follow-up says, per language (``[texts.<lang>]``)."""

    def text(self, lang: str, key: str) -> str:
        return (self.texts.get(lang) or self.texts[next(iter(self.texts))])[key]

    def for_queue(self, queue: str) -> QueuePolicy:
        return self.queues.get(queue, self.default)

    def send_time(self, policy: QueuePolicy, earliest: datetime) -> datetime:
        """The first moment at or after ``earliest`` outside the quiet hours, on the centre's
        wall clock: a follow-up due at 23:40 goes at the quiet hours' end next morning, in
        whatever UTC offset that morning has (DST)."""
        if policy.quiet_hours is None:
            return earliest
        start, end = policy.quiet_hours
        local = earliest.astimezone(self.tz)
        if not _quiet(local.time(), start, end):
            return earliest
        day = local.date() if (start > end and local.time() < end) or start <= end else local.date() + timedelta(days=1)
        wake = datetime.combine(day, end, tzinfo=self.tz)
        # A wall-clock time that does not exist (a spring-forward gap) is normalised by the round trip.
        return wake.astimezone(ZoneInfo("UTC")).astimezone(earliest.tzinfo)

    def is_quiet(self, policy: QueuePolicy, at: datetime) -> bool:
        return policy.quiet_hours is not None and _quiet(at.astimezone(self.tz).time(), *policy.quiet_hours)


def _quiet(t: time, start: time, end: time) -> bool:
    if start == end:
        return False
    return start <= t < end if start < end else (t >= start or t < end)


def _hhmm(value, where: str) -> time:
    try:
        hours, minutes = (int(v) for v in str(value).split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError):
        raise ValueError(f"follow-up policy {where}: times are \"HH:MM\", got {value!r}") from None


def _queue_policy(raw: dict, base: QueuePolicy, where: str) -> QueuePolicy:
    known = {f.name for f in fields(QueuePolicy)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"follow-up policy {where}: unknown keys {sorted(unknown)}")
    values = dict(raw)
    if "quiet_hours" in values:
        q = values["quiet_hours"]
        if q in ([], None, False):
            values["quiet_hours"] = None
        elif isinstance(q, list) and len(q) == 2:
            values["quiet_hours"] = (_hhmm(q[0], where), _hhmm(q[1], where))
        else:
            raise ValueError(f"follow-up policy {where}: quiet_hours is [\"HH:MM\", \"HH:MM\"] or []")
    policy = replace(base, **values)
    if policy.channel not in POLICY_CHANNELS:
        raise ValueError(f"follow-up policy {where}: channel must be one of {', '.join(POLICY_CHANNELS)}")
    if not 0.0 <= float(policy.sample_rate) <= 1.0:
        raise ValueError(f"follow-up policy {where}: sample_rate must be in [0, 1]")
    for name in ("delay_minutes", "one_survey_per_days", "expiry_hours"):
        value = getattr(policy, name)
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"follow-up policy {where}: {name} must be a whole number >= 0")
    if policy.expiry_hours < 1:
        raise ValueError(f"follow-up policy {where}: expiry_hours must be at least 1")
    return replace(policy, sample_rate=float(policy.sample_rate))


TEXT_KEYS = ("intro", "reask", "thanks", "stopped", "closed", "unknown", "sorry", "q_resolved_now", "resolved_thanks")
CHECK_TEXT_KEYS = ("sorry", "q_resolved_now", "resolved_thanks")
"""The call-back check's texts (``callbacks.checks``): a policy file written before them takes
the shipped file's, in its language (else English), so it still loads."""
SHIPPED = Path(__file__).with_name("followup.toml")


def parse_policy(raw: dict, tz: ZoneInfo, queues: set[str] | None = None, languages: set[str] | None = None,
                 questions: tuple[str, ...] = ()) -> FollowupPolicy:
    """``questions``: the keys the SMS asks (each needs a ``q_<key>`` text in every language)."""
    unknown = set(raw) - {"defaults", "queues", "texts"}
    if unknown:
        raise ValueError(f"follow-up policy: unknown sections {sorted(unknown)}")
    default = _queue_policy(raw.get("defaults", {}), QueuePolicy(), "[defaults]")
    per_queue = {name: _queue_policy(v, default, f"[queues.{name}]") for name, v in raw.get("queues", {}).items()}
    if queues is not None and set(per_queue) - queues:
        raise ValueError(f"follow-up policy: queues not in the menu: {sorted(set(per_queue) - queues)}")
    texts = {lang: dict(v) for lang, v in raw.get("texts", {}).items()}
    if not texts:
        raise ValueError("follow-up policy: no [texts.<language>] section")
    shipped = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))["texts"]
    for lang, given in texts.items():
        for key in CHECK_TEXT_KEYS:
            given.setdefault(key, shipped.get(lang, shipped["en"])[key])
    need = (*TEXT_KEYS, *(f"q_{q}" for q in questions))
    require_translations("follow-up policy", languages or set(texts), texts, need, {})
    return FollowupPolicy(tz, default, per_queue, texts)


def load_policy(path: Path | str, tz: ZoneInfo, queues: set[str] | None = None, languages: set[str] | None = None,
                questions: tuple[str, ...] = ()) -> FollowupPolicy:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"follow-up policy {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"follow-up policy {path}: {exc}") from None
    return parse_policy(raw, tz, queues, languages, questions)
