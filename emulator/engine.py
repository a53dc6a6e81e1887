"""Discrete-event engine: simulated time, real HTTP.

Each call (and each agent-console chore) is a generator process that yields
`Wait(seconds)` to let simulated time pass or `Http(fn)` to make a request.
Time never sleeps: a heap of (sim_time, seq, process) orders what happens
next. Requests run in a thread pool of size `concurrency`; a process is not
resumed until its request has answered, so each call stays causal. Requests
of different calls run in parallel only when their simulated times lie
within `window_s` of each other, which bounds how far the app can see events
out of order (agents' availability depends on that order). With
concurrency 1 everything is sequential and fully reproducible.
"""

from __future__ import annotations

import heapq
import itertools
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Generator


@dataclass
class Wait:
    seconds: float


@dataclass
class Http:
    fn: Callable[[], Any]


Process = Generator[Any, Any, None]


class Engine:
    def __init__(self, concurrency: int = 1, window_s: float = 2.0):
        self.concurrency = max(1, concurrency)
        self.window_s = window_s
        self.clock = 0.0
        self._heap: list[tuple[float, int, Process]] = []
        self._seq = itertools.count()
        self._inflight: dict[Future, tuple[float, int, Process]] = {}

    def spawn(self, process: Process, at: float) -> None:
        """Start `process` at simulated time `at`; its first `send` receives `at`."""
        next(process)
        heapq.heappush(self._heap, (at, next(self._seq), process))

    def run(self) -> None:
        pool = ThreadPoolExecutor(self.concurrency) if self.concurrency > 1 else None
        try:
            while self._heap or self._inflight:
                self._dispatch(pool)
                if self._inflight:
                    done, _ = wait(list(self._inflight), return_when=FIRST_COMPLETED)
                    for fut in sorted(done, key=lambda f: self._inflight[f][1]):
                        t, _, proc = self._inflight.pop(fut)
                        self._step(proc, t, fut.result(), pool)
        finally:
            if pool:
                pool.shutdown(wait=True)

    def _dispatch(self, pool) -> None:
        while self._heap and len(self._inflight) < self.concurrency:
            t = self._heap[0][0]
            if self._inflight and t > min(v[0] for v in self._inflight.values()) + self.window_s:
                return
            t, _, proc = heapq.heappop(self._heap)
            self.clock = max(self.clock, t)
            self._step(proc, t, t, pool)

    def _step(self, proc: Process, t: float, value: Any, pool) -> None:
        while True:
            try:
                op = proc.send(value)
            except StopIteration:
                return
            if isinstance(op, Wait):
                heapq.heappush(self._heap, (t + max(0.0, op.seconds), next(self._seq), proc))
                return
            if not isinstance(op, Http):
                raise TypeError(f"process yielded {op!r}")
            if pool is None:
                value = op.fn()
                continue
            self._inflight[pool.submit(op.fn)] = (t, next(self._seq), proc)
            return
