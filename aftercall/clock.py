"""The worker's chores run on clocks of their own."""
from __future__ import annotations

import time


class Every:
    """A worker chore's clock: ``due()`` is true once per ``seconds`` (and at the first call)."""

    def __init__(self, seconds: float):
        self.seconds, self.next_at = max(seconds, 1), 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self.next_at:
            return False
        self.next_at = now + self.seconds
        return True
