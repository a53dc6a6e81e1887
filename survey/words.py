"""The caller's own words: what Twilio's three callbacks of a ``<Record>`` tell us, and their
retention.

The Record ``action``, the ``recordingStatusCallback`` and the ``transcribeCallback`` arrive
in any order, each possibly twice. Each one upserts the row of its ``RecordingSid`` with
what it knows and never undoes what another said: a status only moves forward, a
transcription is written once, and a deleted recording (``deleted_at``) takes nothing more.
Retention (``purge``) deletes the recording at Twilio through a ``RecordingRemover`` (the
composition root gives it Twilio's REST client), then blanks the URL and the text locally.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.base import utcnow
from store.calls import Leg, WebhookEvent
from store.recordings import Recording
from survey.followups import SendError

log = logging.getLogger(__name__)

TRANSCRIPTION_WAIT = timedelta(minutes=30)   # Twilio transcribes a 30 s message in minutes; later means lost
NOT_REQUESTED = "not-requested"              # a language Twilio does not transcribe
FINAL = ("completed", "failed", "absent")   # recordingStatusCallback's RecordingStatus values we keep
TEXT_MAX = 4000


class NotThisCall(LookupError):
    """The callback names a leg that is not on its call (or no leg at all)."""


@dataclass(frozen=True)
class Heard:
    """What one callback says about a recording; None: this callback does not know."""
    recording_sid: str
    url: str | None = None
    duration: int | None = None
    status: str | None = None               # received | completed | failed | absent
    transcription_status: str | None = None  # completed | failed
    text: str | None = None


def heard(session: Session, *, call_sid: str, leg_id: int, transcribed: bool, what: Heard) -> Recording | None:
    """Upsert the recording ``what`` names with what this callback knows; returns the row, or
    None when there is nothing to keep (an ``absent`` recording: the caller said nothing).
    ``transcribed``: whether transcription was requested for the caller's language."""
    leg = session.get(Leg, leg_id)
    if leg is None or leg.call_sid != call_sid or not what.recording_sid:
        raise NotThisCall(f"leg {leg_id} is not on call {call_sid}")
    row = session.scalar(select(Recording).where(Recording.recording_sid == what.recording_sid))
    if row is None:
        if what.status == "absent":
            return None
        row = _insert(session, call_sid, leg_id, what.recording_sid, transcribed)
    if row.deleted_at is not None:
        return row   # a tombstone: nothing comes back after retention
    if what.url:
        row.url = what.url[:500]
    if what.duration is not None:
        row.duration = what.duration
    if what.status in FINAL and row.status == "received":
        row.status = what.status
    if what.transcription_status in ("completed", "failed") and row.transcription_status in (None, NOT_REQUESTED):
        row.transcription_status = what.transcription_status
        row.transcription_text = (what.text or "")[:TEXT_MAX] if what.transcription_status == "completed" else None
    row.updated_at = utcnow()
    return row


def _insert(session: Session, call_sid: str, leg_id: int, sid: str, transcribed: bool) -> Recording:
    """A new row, or the one a concurrent duplicate callback has just inserted."""
    try:
        with session.begin_nested():
            row = Recording(recording_sid=sid, call_sid=call_sid, leg_id=leg_id, url="", status="received",
                            transcription_status=None if transcribed else NOT_REQUESTED)
            session.add(row)
        return row
    except IntegrityError:
        return session.scalar(select(Recording).where(Recording.recording_sid == sid))


def transcription_state(row: Recording, now: datetime) -> str:
    """What the reader is told of the text: completed, failed, not-requested, deleted, pending
    (still within ``TRANSCRIPTION_WAIT``), or missing (Twilio never sent one)."""
    if row.deleted_at is not None:
        return "deleted"
    if row.transcription_status is not None:
        return row.transcription_status
    return "pending" if now - row.created_at < TRANSCRIPTION_WAIT else "missing"


def to_dict(row: Recording, now: datetime, *, with_text: bool) -> dict:
    """The recording as the JSON API shows it; the text (personal data) only ``with_text``."""
    out = {"recording_sid": row.recording_sid, "leg_id": row.leg_id, "status": row.status,
           "duration": row.duration, "transcription": transcription_state(row, now),
           "created_at": row.created_at.isoformat(),
           "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None}
    if with_text:
        out["text"] = row.transcription_text
    return out


def of_legs(session: Session, leg_ids) -> dict[int, list[Recording]]:
    """Each leg's recordings, oldest first (one per leg in practice)."""
    found: dict[int, list[Recording]] = {}
    for row in session.scalars(select(Recording).where(Recording.leg_id.in_(list(leg_ids))).order_by(Recording.id)):
        found.setdefault(row.leg_id, []).append(row)
    return found


# --- retention ---------------------------------------------------------------------------

class RecordingRemover(Protocol):
    def delete_recording(self, recording_sid: str) -> bool:
        """Delete it at Twilio: True when deleted, False when Twilio no longer had it;
        raises ``SendError`` otherwise."""


def expired(session: Session, now: datetime, retention_days: int, limit: int = 200) -> list[int]:
    """Ids of recordings older than the retention period and not yet deleted, oldest first."""
    cutoff = now - timedelta(days=retention_days)
    return list(session.scalars(select(Recording.id).where(Recording.deleted_at.is_(None),
                                                           Recording.created_at < cutoff)
                                .order_by(Recording.created_at, Recording.id).limit(limit)))


def purge(db, remover: RecordingRemover, ids: list[int], now: datetime) -> dict:
    """Delete each recording at Twilio, then blank it here (URL, text) with ``deleted_at``;
    one transaction per recording, so one failure keeps the others' progress. A row already
    deleted is skipped (never deleted twice); Twilio's 404 means already gone, which counts as
    deleted. Returns the counts; failed rows keep their error and wait for the next run."""
    counts = {"deleted": 0, "already_gone": 0, "failed": 0, "skipped": 0}
    for rid in ids:
        with db.session() as s:
            row = s.get(Recording, rid)
            sid = row.recording_sid if row is not None and row.deleted_at is None else None
        if sid is None:
            counts["skipped"] += 1
            continue
        try:
            gone = remover.delete_recording(sid)
        except SendError as exc:
            counts["failed"] += 1
            log.warning("deleting recording %s at Twilio failed: %s", sid, exc)
            with db.session() as s:
                s.execute(update(Recording).where(Recording.id == rid).values(
                    delete_attempts=Recording.delete_attempts + 1, delete_error=str(exc)[:300], updated_at=now))
            continue
        counts["deleted" if gone else "already_gone"] += 1
        with db.session() as s:
            row = s.get(Recording, rid)
            s.execute(update(Recording).where(Recording.id == rid, Recording.deleted_at.is_(None)).values(
                url="", transcription_text=None, deleted_at=now, delete_attempts=Recording.delete_attempts + 1,
                delete_error=None, updated_at=now))
            # The callbacks' stored parameters (kept for idempotency) hold the URL and the text too.
            s.execute(update(WebhookEvent).where(WebhookEvent.call_sid == row.call_sid,
                                                 WebhookEvent.step.contains(f":{sid}", autoescape=True)).values(params={}))
    return counts
