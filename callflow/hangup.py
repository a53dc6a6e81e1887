"""What the end of an agent leg means, from the Dial ``action`` parameters alone.

Twilio requests the Dial ``action`` when the dialled party hangs up, with the parent
call's ``CallStatus``: ``in-progress`` means the caller is still on the line, so the
agent ended the leg; ``completed`` means the caller hung up
(twilio.com/docs/voice/twiml/dial#action). ``DialCallStatus`` is ``completed`` either way.
"""
from __future__ import annotations

from dataclasses import dataclass

UNANSWERED = {"no-answer", "busy", "failed"}


@dataclass(frozen=True)
class LegEnd:
    outcome: str              # handled | no-answer | busy | failed | canceled
    ended_by: str | None      # agent | caller | None (never bridged)
    caller_on_line: bool
    start_survey: bool        # the agent hung up on a caller who is still there
    requeue: bool             # the agent never answered and the caller is still waiting
    agent_unreachable: bool   # take the agent out of rotation


def classify_leg_end(call_status: str, dial_status: str, bridged: bool | None, talk_seconds: int | None) -> LegEnd:
    caller_on_line = call_status in {"in-progress", "ringing", "queued"}
    connected = dial_status == "completed" or (dial_status == "answered") or bool(bridged)
    if connected:
        ended_by = "agent" if caller_on_line else "caller"
        return LegEnd("handled", ended_by, caller_on_line, start_survey=caller_on_line,
                      requeue=False, agent_unreachable=False)
    if dial_status == "canceled":
        return LegEnd("canceled", None, caller_on_line, False, requeue=caller_on_line, agent_unreachable=False)
    outcome = dial_status if dial_status in UNANSWERED else "failed"
    return LegEnd(outcome, None, caller_on_line, False, requeue=caller_on_line, agent_unreachable=True)
