"""Monthly partitions of ``calls`` on PostgreSQL: created ahead once, a month nobody created
still takes its calls (DEFAULT) and hands them over when it is created, one row per CallSid
however many first webhooks race, and months prune. SQLite keeps its plain table."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import func, select, text

from aftercall.partitions import keep_ahead
from store.base import utcnow
from store.calls import Call, insert_call
from store.partitions import DEFAULT, MONTHS_AHEAD, ensure_months, month_start, partitions
from tests.conftest import postgresql_only


def _where(database, sid: str) -> str:
    with database.engine.connect() as conn:
        return conn.scalar(text("SELECT tableoid::regclass::text FROM calls WHERE sid = :sid"), {"sid": sid})


@postgresql_only
def test_the_chore_creates_this_month_and_the_next_once(database):
    keep_ahead(database)
    with database.engine.connect() as conn:
        ranges = partitions(conn)
    assert ranges[DEFAULT] is None
    for n in range(MONTHS_AHEAD + 1):   # its own partition, or calls_legacy's range after a conversion
        lo, hi = month_start(utcnow(), n), month_start(utcnow(), n + 1)
        assert any(r and (r[0] is None or r[0] <= lo) and hi <= r[1] for r in ranges.values()), lo
    assert keep_ahead(database) == []


@postgresql_only
def test_a_month_without_a_partition_lands_in_default_and_moves_when_created(database):
    far = datetime(2031, 3, 9, 12, tzinfo=timezone.utc)
    with database.session() as s:
        insert_call(s, {"sid": "CAfar", "started_at": far})
        insert_call(s, {"sid": "CAnow"})
    assert _where(database, "CAfar") == DEFAULT
    with database.engine.begin() as conn:
        assert ensure_months(conn, far, 1) == ["calls_p2031_03"]
    assert _where(database, "CAfar") == "calls_p2031_03"
    with database.engine.begin() as conn:
        assert ensure_months(conn, far, 1) == []
        plan = "\n".join(conn.scalars(text(
            "EXPLAIN SELECT count(*) FROM calls WHERE started_at >= '2031-03-01' AND started_at < '2031-04-01'")))
    assert "calls_p2031_03" in plan and DEFAULT not in plan and "calls_p2031_02" not in plan
    with database.session() as s:   # the final status callback's time can move a call to another month
        s.get(Call, "CAfar").started_at = datetime(2031, 2, 27, tzinfo=timezone.utc)
    assert _where(database, "CAfar") == DEFAULT
    assert _where(database, "CAnow") != DEFAULT


@postgresql_only
def test_racing_first_webhooks_store_one_call(database):
    """Without the CallSid's lock each insert would carry its own started_at, a key of its own."""
    first_inserted, second_done = threading.Event(), threading.Event()

    def first():
        with database.session() as s:
            insert_call(s, {"sid": "CArace"})
            first_inserted.set()
            second_done.wait(1.0)   # the second waits on the lock until this commits

    def second():
        first_inserted.wait(5)
        with database.session() as s:
            insert_call(s, {"sid": "CArace"})
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.sid == "CArace")) == 1


def test_sqlite_keeps_a_plain_table(database, app):
    result = app.test_cli_runner().invoke(args=["db", "partitions"])
    assert result.exit_code == 0
    if database.engine.dialect.name == "sqlite":
        assert "nothing to partition" in result.output
        assert keep_ahead(database) == []
    else:
        assert "every partition exists" in result.output or "created" in result.output
