"""The caller's own words as the call page and the call-back worklist show them (supervisors
and admins: both pages are in their areas only). The audio plays through the dashboard
(``calls.words_audio``): Twilio's URL and the account's credentials never reach the browser."""
from __future__ import annotations

from flask import current_app, url_for

from store.base import utcnow
from survey import words


def shown(session, leg_ids) -> dict[int, list[dict]]:
    """Each leg's recordings: state of the text, the text, the length and the player's URL
    (none without a Twilio account to fetch from, as in ``make run``'s demo)."""
    now, out, playable = utcnow(), {}, current_app.extensions.get("recording_audio") is not None
    for leg_id, rows in words.of_legs(session, leg_ids).items():
        out[leg_id] = [{"sid": r.recording_sid, "text": r.transcription_text, "duration": r.duration,
                        "transcription": words.transcription_state(r, now), "created_at": r.created_at,
                        "deleted_at": r.deleted_at,
                        "audio": url_for("calls.words_audio", sid=r.call_sid, recording_sid=r.recording_sid)
                        if playable and r.deleted_at is None and r.status != "failed" else None} for r in rows]
    return out
