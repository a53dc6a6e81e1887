"""The worker's chore that keeps the next months' partitions of ``calls`` ready (PostgreSQL).

Every six hours it creates this month's partition and the next three when missing
(``store.partitions.ensure_ahead``): a quick no-op once they exist. The release step's
``flask db upgrade`` does the same, so a deploy never waits for the worker; the DEFAULT
partition catches a call whose month was never created, and the next run moves it out.
"""
from __future__ import annotations

import logging

from aftercall.clock import Every
from store.base import utcnow
from store.db import Database
from store.partitions import ensure_ahead

log = logging.getLogger(__name__)
SECONDS = 6 * 3600


def keep_ahead(db: Database) -> list[str]:
    """Create the missing partitions from this month on; returns their names."""
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.begin() as conn:
        created = ensure_ahead(conn, utcnow())
    if created:
        log.info("created partitions %s", ", ".join(created))
    return created


class PartitionKeeper:
    def __init__(self, db: Database, seconds: float = SECONDS):
        self.db, self.clock = db, Every(seconds)

    def tick(self) -> bool:
        if not self.clock.due():
            return False
        try:
            return bool(keep_ahead(self.db))
        except Exception:  # the database is away or a lock timed out: the next tick tries again
            log.warning("creating the next months' partitions failed", exc_info=True)
            return False
