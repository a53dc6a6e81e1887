"""Calls as Twilio reports them: opened by whichever webhook comes first, closed by the
final status callback, whose ``Timestamp`` and ``CallDuration`` fix when the call ran."""
from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callflow.legs import finish_leg
from callflow.routing import RESERVED, WAITING, release_reservation
from store.calls import Call, Leg, QueueEntry, insert_call, lock_call
from store.rollup import forget_days_touched_by

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def open_call(session: Session, sid: str, *, account_sid: str = "", from_number: str = "",
              to_number: str = "") -> Call:
    """The call for ``sid``, created on first sight whatever webhook that is (retries reorder).

    Usually the call exists (one SELECT); only the first webhook of a call inserts it."""
    call = session.get(Call, sid, populate_existing=True)
    if call is not None:
        if call.time_source == "twilio":   # a webhook after the call's end: its day may be rolled up
            forget_days_touched_by(session, call.started_at)
        return call
    insert_call(session, {"sid": sid, "account_sid": account_sid[:64], "from_number": from_number[:64],
                          "to_number": to_number[:64]})
    return session.get(Call, sid, populate_existing=True)


def parse_timestamp(raw: str | None) -> datetime | None:
    """Twilio's RFC 2822 ``Timestamp``; None when absent or unreadable."""
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else None


def apply_status(session: Session, call: Call, status: str, sequence: int | None, duration: int | None,
                 timestamp: datetime | None) -> bool:
    """Apply a status callback unless a newer one was applied already; True if applied."""
    # Callbacks of one call come in any order and may be handled at once: decide on the row as
    # committed, locked until this transaction ends, never on a snapshot a concurrent one overtook.
    lock_call(session, call)
    is_final = status in FINAL_STATUSES
    if call.status in FINAL_STATUSES and not is_final:
        return False  # a late progress event never reopens a finished call
    if call.status_seq is not None and sequence is not None and sequence < call.status_seq:
        return False
    call.status = status or call.status
    call.status_seq = sequence if sequence is not None else call.status_seq
    if is_final:
        close_call(session, call, duration, timestamp)
    return True


def close_call(session: Session, call: Call, duration: int | None, ended_at: datetime | None) -> None:
    if duration is not None:
        call.duration = duration
    if ended_at is not None:
        before = call.started_at
        call.ended_at = ended_at
        call.started_at = ended_at - timedelta(seconds=duration or 0)
        call.time_source = "twilio"
        forget_days_touched_by(session, before, call.started_at)   # emulated time can land on a rolled-up day
    # A caller who left while still queued (no Enqueue action seen yet) is not left holding an agent.
    for entry in session.scalars(select(QueueEntry).where(QueueEntry.call_sid == call.sid,
                                                          QueueEntry.state.in_([WAITING, RESERVED]))):
        release_reservation(session, entry)
        entry.state = "abandoned"
        entry.result = entry.result or "hangup"
    # Twilio need not request the Dial action when the caller hangs up first: the call's end
    # closes any leg still open, so its agent is never left "busy" for ever (nor a transfer
    # the agent asked for standing: the caller is gone).
    for leg in session.scalars(select(Leg).where(Leg.call_sid == call.sid, Leg.dial_status.is_(None))):
        finish_leg(session, leg, dial_status="unknown", ended_by="caller", at=ended_at)
        leg.transfer_queue = None
