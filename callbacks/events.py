"""Task events for an outside system (a CRM, a chat channel): a task opened, a task went overdue.

The sweep that opens tasks also notes, once per task, when one is first seen overdue
(``overdue_at``); each event is then a job in the same transaction, so none is lost and none
is sent twice for the same change. What a receiver gets is ``event_body``: the task as the JSON
API shows it (no caller number). Delivery and its signature are the composition root's
(``aftercall.callbacks``, ``outbound.event_hook``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from callbacks.tasks import FINAL
from callbacks.worklist import task_json
from store.callbacks import CallbackTask

OPENED, OVERDUE = "task.opened", "task.overdue"
EVENTS = (OPENED, OVERDUE)


def went_overdue(session: Session, now: datetime) -> list[int]:
    """Ids of the tasks not yet seen overdue that are now (still to do, past due); marks them."""
    # One UPDATE … RETURNING: two sweeps at once cannot both claim a task.
    marked = (update(CallbackTask).where(CallbackTask.state.not_in(FINAL), CallbackTask.due_at < now,
                                         CallbackTask.overdue_at.is_(None))
              .values(overdue_at=now).returning(CallbackTask.id))
    return sorted(session.scalars(marked))


def event_body(session: Session, task_id: int, event: str, now: datetime) -> dict:
    """What the receiver is sent: the event, when it happened, the task as it is now."""
    if event not in EVENTS:
        raise ValueError(f"unknown task event {event!r}")
    task = session.get(CallbackTask, task_id)
    at = task.opened_at if event == OPENED else task.overdue_at
    return {"event": event, "at": at.isoformat() if at else None, "sent_at": now.isoformat(),
            "task": task_json(task, now)}
