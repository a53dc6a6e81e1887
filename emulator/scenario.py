"""Scenario: everything a simulation run needs, loaded from a TOML file.

A scenario is data, not code: agents (with their hidden truth), caller mix,
arrival profile, Twilio account settings and fault rates. Unknown keys are
rejected so a typo in a scenario file fails loudly instead of silently using
a default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

BEHAVIOURS = ("honest", "early_hangup", "cap_cutter", "survey_dodger", "transfer_out")


@dataclass
class AgentSpec:
    """One simulated agent; `quality`, `behaviour` and the timing are the truth scoring must recover."""

    id: str
    name: str = ""
    team: str = ""
    skills: list[str] = field(default_factory=list)
    phone: str | None = None
    quality: float = 0.7          # latent quality q in [0, 1]
    answer_prob: float = 0.95     # picks up a ringing call
    ring_s: tuple[float, float] = (3.0, 10.0)  # uniform seconds until pick-up
    talk_median_s: float = 300.0  # lognormal median of the time the caller's need takes
    talk_sigma: float = 0.5
    behaviour: str = "honest"
    early_prob: float = 0.5       # early_hangup: share of calls cut early
    early_after_s: tuple[float, float] | None = None  # early_hangup: cut this many s in (uniform), else at 25-60% of the need
    transfer_prob: float = 0.3    # transfer_out: share of calls passed on to another queue (the harder, longer half)
    transfer_after_s: tuple[float, float] = (20.0, 90.0)  # talk before any transfer (uniform seconds)
    wrap_up_s: float | None = 20.0  # console sets "available" this long after a leg; None: never
    break_s: float = 300.0        # away after a missed call, then back "available"
    shift_h: tuple[float, float] | None = None  # logged in from hour a to hour b of each day (epoch's clock;
                                                # a > b runs past midnight); None: always

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"agent {self.id}: behaviour must be one of {BEHAVIOURS}")
        if not 0.0 <= self.quality <= 1.0:
            raise ValueError(f"agent {self.id}: quality must be in [0, 1]")
        self.ring_s = tuple(self.ring_s)
        self.transfer_after_s = tuple(self.transfer_after_s)
        if not 0.0 <= self.transfer_prob <= 0.5:
            raise ValueError(f"agent {self.id}: transfer_prob must be in [0, 0.5] (the longer half of the calls)")
        if self.early_after_s is not None:
            self.early_after_s = tuple(self.early_after_s)
            if len(self.early_after_s) != 2 or not 0 <= self.early_after_s[0] <= self.early_after_s[1]:
                raise ValueError(f"agent {self.id}: early_after_s must be [low, high] seconds, 0 <= low <= high")
        if self.shift_h is not None:
            self.shift_h = tuple(self.shift_h)
            if len(self.shift_h) != 2 or not all(0 <= h <= 24 for h in self.shift_h) or self.shift_h[0] == self.shift_h[1]:
                raise ValueError(f"agent {self.id}: shift_h must be [start, end] hours in 0..24, start != end")
        self.name = self.name or self.id

    def on_shift(self, t: float) -> bool:
        """Logged in at `t` seconds after the epoch (always, without a shift)."""
        if self.shift_h is None:
            return True
        start, end = self.shift_h
        hour = (t % 86400.0) / 3600.0
        return start <= hour < end if start < end else (hour >= start or hour < end)


@dataclass
class Arrivals:
    """Poisson arrivals whose rate (calls per hour) follows the hour of day."""

    per_hour: list[float] = field(default_factory=lambda: [1.0] * 24)
    weekend_factor: float = 0.5

    def __post_init__(self) -> None:
        if len(self.per_hour) != 24:
            raise ValueError("arrivals.per_hour needs 24 values")


@dataclass
class Callers:
    """How callers behave; keys are DTMF digits as the caller presses them."""

    language: dict[str, float] = field(default_factory=lambda: {"1": 0.8, "2": 0.2})
    menu: dict[str, float] = field(default_factory=lambda: {"1": 0.4, "2": 0.35, "3": 0.25})
    wrong_key: float = 0.03        # presses a key outside `menu`
    silence: float = 0.03          # says nothing at an IVR Gather
    ivr_hangup: float = 0.02       # hangs up at an IVR Gather
    max_ivr_gathers: int = 6       # gives up after this many IVR prompts before reaching a queue
    patience_mean_s: float = 240.0  # exponential patience while waiting for an agent
    linger_s: tuple[float, float] = (4.0, 25.0)  # stays on after the need is met, then hangs up
    survey_response_rate: float = 0.55
    repeat_if_unresolved: float = 0.5
    repeat_delay_h: tuple[float, float] = (0.5, 8.0)
    number_pool: int = 5000
    speak_words: float = 0.7       # says something at a survey <Record> (the rest stay silent)
    difficulty: dict[str, float] = field(default_factory=dict)
    """How hard each queue's problems are, 0 (default) to 1, by queue name: a hard queue's
    callers are resolved less often and rate lower whoever answers (the case mix scoring
    must adjust for, not blame on the agent)."""
    misrouted: dict[str, float] = field(default_factory=dict)
    """Share of each queue's callers whose problem belongs to another queue: whoever answers
    transfers them (``transfer_to``) after a short talk. An honest reason to transfer that
    depends on the queue, which the transfer-out finding must not blame on its agents."""
    transfer_to: dict[str, str] = field(default_factory=lambda: {
        "general": "billing", "billing": "general", "tech": "general", "sales": "general"})
    """Where an agent transfers a caller from each queue (queue names of ivr/menu.toml)."""

    def __post_init__(self) -> None:
        self.linger_s = tuple(self.linger_s)
        bad_share = {q: d for q, d in self.misrouted.items() if not 0.0 <= d <= 1.0}
        if bad_share:
            raise ValueError(f"callers.misrouted must be in [0, 1]: {bad_share}")
        self.repeat_delay_h = tuple(self.repeat_delay_h)
        bad = {q: d for q, d in self.difficulty.items() if not 0.0 <= d <= 1.0}
        if bad:
            raise ValueError(f"callers.difficulty must be in [0, 1]: {bad}")


@dataclass
class Followups:
    """How callers treat a follow-up survey (SMS or call-back), and the REST API's faults.

    Shares of SMS recipients: ``reply`` answer every question (of those, ``wrong_first``
    first send something unreadable, ``late`` reply after the expiry), ``stop`` opt out,
    ``garbage`` send only unreadable text; the rest never reply. Of call-backs: ``answer``
    a person answers and takes the survey, ``machine`` voicemail picks up; the rest ring out.
    ``rest_faults``: probability per create request of each ``emulator.twilio_rest.FAULTS``.
    """

    reply: float = 0.45
    wrong_first: float = 0.15
    late: float = 0.05
    stop: float = 0.04
    garbage: float = 0.04
    answer: float = 0.5
    machine: float = 0.2
    reply_delay_min: tuple[float, float] = (1.0, 180.0)
    rest_faults: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reply_delay_min = tuple(self.reply_delay_min)
        if self.reply + self.stop + self.garbage > 1 or self.answer + self.machine > 1:
            raise ValueError("followups: shares add up to more than 1")


@dataclass
class ClickToCall:
    """Who answers a supervisor's "call back" (``emulator.click_to_call``): the supervisor
    picks up with ``supervisor_answer``; then the caller answers (``caller_answer``) and
    talks ``talk_s`` seconds, declines the call (``caller_decline``: Twilio reports busy),
    or lets it ring out."""

    supervisor_answer: float = 0.85
    caller_answer: float = 0.6
    caller_decline: float = 0.15
    talk_s: tuple[float, float] = (20.0, 400.0)

    def __post_init__(self) -> None:
        self.talk_s = tuple(self.talk_s)
        if self.caller_answer + self.caller_decline > 1 or not 0 <= self.supervisor_answer <= 1:
            raise ValueError("click_to_call: shares add up to more than 1")


@dataclass
class Faults:
    """Delivery faults Twilio is documented to produce, and its retry settings.

    `retry_count` and `retry_policy` are the defaults used when a URL carries
    no `#rc=`/`#rp=` connection override (webhooks-connection-overrides).
    That page documents rc's default of 1; its default for rp could not be
    confirmed from the stored copy, so the policy is a setting here
    (connect failures, read timeouts and 5xx answers are retried).
    """

    duplicate_request: float = 0.0
    duplicate_status_callback: float = 0.0
    reorder_status_callbacks: float = 0.0
    lost_response: float = 0.0     # response dropped on the way back: Twilio sees a read timeout
    retry_count: int = 1
    retry_policy: str = "ct,rt,5xx"
    dial_action_on_caller_hangup: float = 1.0
    lost_transcription: float = 0.0  # a <Record>'s transcribeCallback never comes


@dataclass
class Timing:
    words_per_second: float = 2.5
    play_s: float = 10.0
    handle_time_cap_s: float = 780.0   # what cap_cutter agents game (13 min)
    read_timeout_s: float = 15.0       # Twilio's hard cap on a voice webhook
    max_call_s: float = 4 * 3600.0     # loop guard: the caller gives up on a call this long
    max_requests_per_call: int = 400   # loop guard for zero-time Redirect loops


@dataclass
class Scenario:
    seed: int = 1
    days: float = 7.0
    start: dt.datetime | None = None   # simulated epoch (UTC); default: midnight `days` ago
    until: dt.datetime | None = None   # every call over by then: none starts later than until - timing.max_call_s
    calls: int | None = None           # cap on first-contact calls (repeats come on top)
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "emulator-auth-token"
    api_token: str = "emulator-api-token"
    to_number: str = "+15005550006"
    voice_url: str = "/voice/incoming"
    status_callback: str | None = "/voice/status"
    status_callback_events: list[str] = field(default_factory=lambda: ["completed"])
    agents: list[AgentSpec] = field(default_factory=list)
    arrivals: Arrivals = field(default_factory=Arrivals)
    callers: Callers = field(default_factory=Callers)
    faults: Faults = field(default_factory=Faults)
    timing: Timing = field(default_factory=Timing)
    followups: Followups = field(default_factory=Followups)
    click_to_call: ClickToCall = field(default_factory=ClickToCall)

    def stop_s(self) -> float | None:
        """Seconds after the epoch from which no call starts (``until`` less the longest call)."""
        if self.until is None:
            return None
        return (self.until - self.epoch()).total_seconds() - self.timing.max_call_s

    def epoch(self) -> dt.datetime:
        if self.start is not None:
            return self.start
        today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - dt.timedelta(days=self.days)

    @classmethod
    def from_dict(cls, data: dict) -> "Scenario":
        data = dict(data)
        nested = {"arrivals": Arrivals, "callers": Callers, "faults": Faults, "timing": Timing,
                  "followups": Followups, "click_to_call": ClickToCall}
        kwargs = {}
        for name, typ in nested.items():
            if name in data:
                kwargs[name] = _build(typ, data.pop(name))
        if "agents" in data:
            kwargs["agents"] = [_build(AgentSpec, a) for a in data.pop("agents")]
        for name in ("start", "until"):
            if name in data:
                kwargs[name] = _parse_start(data.pop(name))
        scenario = _build(cls, data, **kwargs)
        ids = [a.id for a in scenario.agents]
        if len(ids) != len(set(ids)):
            raise ValueError("agent ids must be unique")
        return scenario

    def replace(self, **changes) -> "Scenario":
        return dataclasses.replace(self, **changes)


def _build(typ, data: dict, **extra):
    names = {f.name for f in dataclasses.fields(typ)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown {typ.__name__} keys: {sorted(unknown)}")
    return typ(**data, **extra)


def _parse_start(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def load_scenario(path: str | Path) -> Scenario:
    with open(path, "rb") as fh:
        return Scenario.from_dict(tomllib.load(fh))
