"""Monthly partitions of ``calls`` on PostgreSQL; SQLite keeps the plain table.

``calls`` is range-partitioned on ``started_at``: one partition per UTC month
(``calls_p2026_12``), a DEFAULT partition (``calls_default``) so an insert never fails, and on
a database converted by migration 0022 the old table, attached whole as ``calls_legacy`` for
everything before the first month. ``ensure_months`` creates months that are missing; the
worker's chore and ``flask db partitions`` (and ``flask db upgrade``) keep the next months
ready. Design and locks: docs/operators.md, "Partitioning".
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Connection

PARENT, KEY = "calls", "started_at"
DEFAULT, LEGACY = "calls_default", "calls_legacy"
MONTHS_AHEAD = 3
# A partition waits at most this long for its locks (queries on the DEFAULT partition), then
# gives up until the next run rather than queueing every query on ``calls`` behind it.
LOCK_TIMEOUT = "5s"
_PARTITION = re.compile(r"^calls_(p\d{4}_\d{2}|default|legacy)$")
_BOUND = re.compile(r"FROM \((.+?)\) TO \((.+?)\)")


def is_partition_name(name: str) -> bool:
    """Tables that are partitions of ``calls`` (not in the models: the schema check skips them)."""
    return bool(_PARTITION.match(name))


def month_start(when: datetime, add: int = 0) -> datetime:
    """The first instant (UTC) of ``when``'s month, ``add`` months later."""
    when = when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    index = when.year * 12 + when.month - 1 + add
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc)


def partition_name(month: datetime) -> str:
    return f"calls_p{month.year:04d}_{month.month:02d}"


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and bool(conn.scalar(text(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('calls')")))


def _bound(raw: str) -> datetime | None:
    raw = raw.strip("'")
    return None if raw in ("MINVALUE", "MAXVALUE") else datetime.fromisoformat(raw)


def partitions(conn: Connection) -> dict[str, tuple[datetime | None, datetime | None] | None]:
    """Each partition of ``calls``: its [from, to) range (None: unbounded), None for DEFAULT."""
    rows = conn.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass")).all()
    out = {}
    for name, bound in rows:
        found = _BOUND.search(bound)
        out[name] = (_bound(found[1]), _bound(found[2])) if found else None
    return out


def _overlaps(ranges, lo: datetime, hi: datetime) -> bool:
    return any(r is not None and (r[0] is None or r[0] < hi) and (r[1] is None or lo < r[1]) for r in ranges)


def ensure_months(conn: Connection, first: datetime, count: int, lock_timeout: str | None = LOCK_TIMEOUT) -> list[str]:
    """Create the monthly partitions of ``count`` months from ``first``'s month that no
    partition covers yet; rows of those months waiting in DEFAULT move into them. Idempotent;
    several callers at once are serialized. Returns the partitions created. ``lock_timeout``
    applies to the rest of the caller's transaction."""
    if not is_partitioned(conn):
        return []
    if lock_timeout:
        conn.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('aftercall.partitions'))"))
    existing = partitions(conn)
    created = []
    for n in range(count):
        lo, hi = month_start(first, n), month_start(first, n + 1)
        name = partition_name(lo)
        if name in existing or _overlaps(existing.values(), lo, hi):
            continue
        # Created detached and attached (SHARE UPDATE EXCLUSIVE on the parent, not ACCESS
        # EXCLUSIVE as CREATE … PARTITION OF takes), with its month's rows taken out of DEFAULT.
        bounds = {"lo": lo, "hi": hi}
        conn.execute(text(f"CREATE TABLE {name} (LIKE calls INCLUDING DEFAULTS)"))
        if DEFAULT in existing:
            conn.execute(text(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE started_at >= :lo AND started_at < :hi"
                              f" RETURNING *) INSERT INTO {name} SELECT * FROM moved"), bounds)
        conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound CHECK (started_at IS NOT NULL"
                          f" AND started_at >= {_literal(lo)} AND started_at < {_literal(hi)})"))
        conn.execute(text(f"ALTER TABLE calls ATTACH PARTITION {name}"
                          f" FOR VALUES FROM ({_literal(lo)}) TO ({_literal(hi)})"))
        conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound"))
        existing[name] = (lo, hi)
        created.append(name)
    return created


def ensure_ahead(conn: Connection, now: datetime, months: int = MONTHS_AHEAD) -> list[str]:
    """This month's partition and the next ``months``' (the chore and the release step)."""
    return ensure_months(conn, now, months + 1)


def _literal(when: datetime) -> str:
    return f"'{when.isoformat()}'::timestamptz"


def schema_check_filters(dialect: str) -> dict:
    """Alembic's ``include_name``/``include_object`` for comparing the models with a database:
    on PostgreSQL the partitions and the foreign keys to ``calls`` (dropped by 0022) are not in it."""
    if dialect != "postgresql":
        return {}

    def include_name(name, type_, parent_names) -> bool:
        return not (type_ == "table" and is_partition_name(name))

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        return not (type_ == "foreign_key_constraint" and obj.referred_table.name == PARENT)

    return {"include_name": include_name, "include_object": include_object}
