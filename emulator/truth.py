"""Ground truth: what really happened on each call, as JSON lines.

The app only sees webhooks; the emulator knows each agent's latent quality,
behaviour, and why a call ended. Scoring is checked against these records.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable


@dataclass
class AppError:
    at_s: float
    url: str
    code: int            # Twilio error code: 11200 retrieval failure, 12100 parse, 12200 schema
    detail: str


@dataclass
class LegTruth:
    """One attempt to connect the caller to an agent (one `<Dial>`)."""

    agent_id: str | None
    behaviour: str | None
    quality: float | None
    queue: str | None
    queue_wait_s: float
    dial_status: str            # completed | busy | no-answer | failed | canceled
    ring_s: float = 0.0
    talk_s: float = 0.0
    need_s: float = 0.0         # how long the caller's problem takes to handle
    hung_up_by: str | None = None   # agent | caller | time-limit
    cut_short: bool = False     # the agent ended before the need was met
    cut_reason: str | None = None   # early_hangup | cap | transfer (a transfer_out agent passing a call on)
    transferred_to: str | None = None   # the agent transferred the caller to this queue
    resolved: bool = False
    survey: list[str] = field(default_factory=list)  # answers in the order the survey Gathers came
    survey_declined: bool = False
    words: str | None = None            # what the caller said after a survey <Record> (None: silence)
    recording_sid: str | None = None    # the RecordingSid of those words
    transcription_sent: bool = False    # Twilio's transcribeCallback was sent (it is sometimes lost)


@dataclass
class CallTruth:
    call_sid: str
    from_number: str
    start: str                  # ISO 8601, simulated
    start_s: float
    repeat_of: str | None = None
    language: str | None = None
    menu_keys: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    legs: list[LegTruth] = field(default_factory=list)
    abandoned_in_queue: bool = False
    abandoned_in_ivr: bool = False
    end_reason: str = ""        # app-hangup | caller-hangup | end-of-document | app-error | loop-guard
    duration_s: float = 0.0
    requests: int = 0
    app_errors: list[AppError] = field(default_factory=list)
    duplicate_mismatches: list[str] = field(default_factory=list)  # URLs whose duplicate got different TwiML
    resolved: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def write_jsonl(records: Iterable[CallTruth], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(record.to_json() + "\n")
