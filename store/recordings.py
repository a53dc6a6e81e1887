"""The caller's own words: a short ``<Record>`` after "no" to the adequacy question (issue 14).

One row per Twilio recording (``UNIQUE(recording_sid)``), written by whichever of the three
callbacks (the Record ``action``, ``recordingStatusCallback``, ``transcribeCallback``) comes
first and completed by the others, in any order. Retention blanks ``url`` and the text and
sets ``deleted_at``: the row stays as a tombstone, so a late callback cannot bring the words back.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, UTCDateTime, utcnow

RECORDING_STATES = ("received", "completed", "failed", "absent")   # received: the action came, the file may not be ready
TRANSCRIPTION_STATES = ("completed", "failed")                     # NULL: no transcribeCallback yet


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid"), index=True)
    leg_id: Mapped[int] = mapped_column(ForeignKey("legs.id"), index=True)
    url: Mapped[str] = mapped_column(String(500), default="")
    duration: Mapped[int | None] = mapped_column(Integer)          # Twilio's RecordingDuration, seconds
    status: Mapped[str] = mapped_column(String(16), default="received")
    transcription_status: Mapped[str | None] = mapped_column(String(16))
    transcription_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delete_attempts: Mapped[int] = mapped_column(Integer, default=0)
    delete_error: Mapped[str | None] = mapped_column(String(300))
