"""Twilio queues as `<Enqueue>` creates them: on demand, by name, FIFO.

Feeds the waitUrl parameters Twilio documents: QueuePosition, QueueSid,
QueueTime, AvgQueueTime, CurrentQueueSize, MaxQueueSize
(twilio.com/docs/voice/twiml/enqueue#attributes-wait-url-parameters). The
default maximum size of a queue is 1000 (same page).
"""

from __future__ import annotations

import hashlib

DEFAULT_MAX_SIZE = 1000


class Queue:
    def __init__(self, name: str, max_size: int = DEFAULT_MAX_SIZE):
        self.name = name
        self.sid = "QU" + hashlib.md5(name.encode()).hexdigest()
        self.max_size = max_size
        self.members: dict[str, float] = {}   # call sid -> enqueued at (sim s), insertion = FIFO order

    def join(self, call_sid: str, now: float) -> bool:
        if len(self.members) >= self.max_size:
            return False
        self.members[call_sid] = now
        return True

    def leave(self, call_sid: str, now: float) -> float:
        return now - self.members.pop(call_sid, now)

    def wait_params(self, call_sid: str, now: float) -> dict[str, str]:
        waits = [now - t for t in self.members.values()]
        return {
            "QueueSid": self.sid,
            "QueuePosition": str(list(self.members).index(call_sid) + 1),
            "QueueTime": str(int(now - self.members[call_sid])),
            "AvgQueueTime": str(int(sum(waits) / len(waits))),
            "CurrentQueueSize": str(len(self.members)),
            "MaxQueueSize": str(self.max_size),
        }


class QueueBook:
    def __init__(self) -> None:
        self.queues: dict[str, Queue] = {}

    def get(self, name: str) -> Queue:
        if name not in self.queues:
            self.queues[name] = Queue(name)
        return self.queues[name]
