"""The dashboard's seeded centre and logged-in client, and callers at risk in the last days."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from store.callbacks import CallbackTask
from tests.dashboard.conftest import browser, seeded  # noqa: F401
from tests.outcomes.builder import call, handled

NO = {"adequate": 2, "satisfaction": 1}


def add_at_risk(database, now: datetime, *, abandoners: int = 1) -> dict:
    """Callers at risk besides the seeded October: a repeat caller who said "no" three times
    (with an overdue task), one who said "no", called again and asked for an agent again, ``abandoners`` callers who
    hung up in the queue four times; and a happy caller. CallSids clear of the seeded ones."""
    with pytest.MonkeyPatch.context() as mp, database.session() as s:
        mp.setattr("tests.outcomes.builder._sids", itertools.count(10**9))
        first = [call(s, now - timedelta(days=3, hours=k), number="+15557770001", visits=[handled("ann", survey=NO)])
                 for k in range(3)]
        task = CallbackTask(leg_id=first[0].legs[0].id, call_sid=first[0].sid, agent_id="ann", team="north",
                            caller_number="+15557770001", reason="adequacy-no", state="open", note="",
                            due_at=now - timedelta(days=1), opened_at=now - timedelta(days=3), updated_at=now)
        s.add(task)
        call(s, now - timedelta(days=2, hours=5), number="+15557770002", visits=[handled("bob", survey=NO)])
        call(s, now - timedelta(days=2), number="+15557770002", visits=[handled("bob", survey={"anything_else": 1})])
        for n in range(abandoners):
            for k in range(4):
                call(s, now - timedelta(days=1 + 4 * k, minutes=n), number=f"+1555778{n:04d}",
                     visits=[{"state": "abandoned", "wait": 50}])
        call(s, now - timedelta(days=1), number="+15557770004", visits=[handled("bob", survey={"adequate": 1})])
        other = call(s, now - timedelta(days=1), number="+15559990000", visits=[handled("bob")])
        s.flush()
        return {"sids": [c.sid for c in first], "task": task.id, "other": other.sid}
