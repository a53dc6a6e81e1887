"""Outbound pacing: Twilio's throughput, shared by every worker process.

Twilio places at most the account's CPS of outbound calls a second (1 unless raised) and a
sender sends its throughput of messages a second (a long code: 1); above that, requests are
queued or refused (429). Each create (``Calls.create``, ``Messages.create``) first reserves
the next free slot of its bucket (the account's calls, a sender's messages), then waits
until that slot. The slots are a generic cell rate algorithm: one "theoretical arrival time"
per bucket, moved on by 1/rate per reservation, so reservations are served in order and never
closer than 1/rate apart. With ``REDIS_URL`` the buckets live in Redis (one Lua script,
atomic, on Redis's clock), so every worker process on every host shares them; without it
(the embedded default) in this process. A slot further away than ``max_wait`` is not
reserved: the send fails as Twilio's own 429 would (retryable, nothing created) and is
retried later, instead of holding a worker asleep.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Protocol

# KEYS[1]: the bucket; ARGV: 1/rate and the longest wait, both in microseconds. Returns the
# wait before the reserved slot (>= 0), or minus the wait when it is too long (nothing reserved).
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then return -wait end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', tat + interval), 'PX', math.ceil((wait + interval) / 1000) + 1000)
return wait
"""


class Buckets(Protocol):
    def reserve(self, key: str, interval_s: float, max_wait_s: float) -> float:
        """Seconds until the reserved slot (>= 0), or minus the wait when it exceeds ``max_wait_s``."""


class RedisBuckets:
    """Buckets shared through Redis by every process that uses the same Redis."""

    def __init__(self, redis, prefix: str = "aftercall:pace:"):
        self.script, self.prefix = redis.register_script(GCRA_LUA), prefix

    def reserve(self, key: str, interval_s: float, max_wait_s: float) -> float:
        return int(self.script(keys=[self.prefix + key],
                               args=[math.ceil(interval_s * 1e6), math.floor(max_wait_s * 1e6)])) / 1e6


class LocalBuckets:
    """The same buckets in this process's memory (the embedded default runs one worker)."""

    def __init__(self):
        self._lock, self._tat = threading.Lock(), {}

    def reserve(self, key: str, interval_s: float, max_wait_s: float) -> float:
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(key, now), now)
            wait = tat - now
            if wait > max_wait_s:
                return -wait
            self._tat[key] = tat + interval_s
            return wait


class Paced(Exception):
    """The bucket's next free slot is further away than the longest wait."""

    def __init__(self, key: str, wait_s: float):
        super().__init__(f"paced: {key} is booked {wait_s:.1f} s ahead")
        self.wait_s = wait_s


class Pacer:
    """``rates``: bucket kind (``call``, ``message``) → per second; 0 or missing: unpaced."""

    def __init__(self, buckets: Buckets, rates: dict[str, float], max_wait_s: float):
        self.buckets, self.rates, self.max_wait_s = buckets, rates, max_wait_s

    def wait(self, kind: str, key: str) -> None:
        """Block until this create's slot; raise ``Paced`` when it would be too long a wait."""
        rate = self.rates.get(kind) or 0
        if rate <= 0:
            return
        name = f"{kind}:{key}"
        wait = self.buckets.reserve(name, 1 / rate, self.max_wait_s)
        if wait < 0:
            raise Paced(name, -wait)
        if wait:
            time.sleep(wait)
