"""Every call-progress status callback Twilio sends is accepted and applied in order.

Regression (found by tests/load): ``CallStatus=initiated`` — the callback of
``StatusCallbackEvent=initiated`` — was refused as "not a Twilio value", logged as bad
parameters and answered with the fallback instead of being recorded.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from store.calls import Call, WebhookEvent
from tests.journey.driver import ScriptedCall


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
