"""Every call-progress status callback Twilio sends is accepted and applied in order.

Regression (found by tests/load): ``CallStatus=initiated`` — the callback of
``StatusCallbackEvent=initiated`` — was refused as "not a Twilio value", logged as bad
parameters and answered with the fallback instead of being recorded.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from store.calls import Call, WebhookEvent
from tests.conftest import postgresql_only
from tests.voice.driver import ScriptedCall


def test_every_progress_event_is_applied_and_a_late_one_never_reopens_the_call(twilio, database, caplog):
    call = ScriptedCall(twilio, "CAprogress")
    with caplog.at_level(logging.WARNING):
        call.status("initiated", duration=0, seq=0)
        call.status("ringing", duration=0, seq=1)
        call.incoming()
        call.status("completed", duration=42, seq=3)
        call.status("in-progress", duration=0, seq=2)   # reordered: arrives after "completed"
    assert [r.getMessage() for r in caplog.records if r.name.startswith("webhooks")] == []
    with database.session() as s:
        row = s.get(Call, "CAprogress")
        steps = set(s.scalars(select(WebhookEvent.step).where(WebhookEvent.call_sid == "CAprogress")))
    assert (row.status, row.status_seq, row.duration) == ("completed", 3, 42)
    assert {"status:0:initiated", "status:1:ringing", "status:3:completed"} <= steps


@postgresql_only
def test_concurrent_callbacks_of_one_call_never_regress_a_finished_call(database):
    """Regression (found by tests/load): Twilio promises no order for status callbacks, so a
    late "in-progress" can be handled while "completed" is still being written. The late one
    must see the finished call, not a snapshot from before it, and change nothing.
    PostgreSQL only: SQLite serialises its writers."""
    from callflow.calls import parse_timestamp
    from callflow.journey import Caller, report_status
    caller = Caller("CArace", "AC0", "+15550001111", "+15559990000")
    with database.session() as s:
        report_status(s, caller, "ringing", 1, None, None)
    final = database.sessions()
    late_result = []
    try:
        report_status(final, caller, "completed", 3, 42, parse_timestamp("Tue, 04 Mar 2025 08:10:00 +0000"))
        final.flush()                                   # "completed" written, not yet committed

        def late():
            with database.session() as s:
                late_result.append(report_status(s, caller, "in-progress", 2, None, None))
        thread = threading.Thread(target=late)
        thread.start()
        time.sleep(0.5)                                 # the late callback is waiting on, or past, its read
        final.commit()
    finally:
        final.close()
    thread.join(10)
    with database.session() as s:
        row = s.get(Call, "CArace")
        assert (row.status, row.status_seq, row.duration) == ("completed", 3, 42)
    assert late_result == [False]
