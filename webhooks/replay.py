"""Every voice webhook answers valid TwiML, once per step.

``voice_webhook`` wraps a handler so that:
- the Twilio signature is checked (403 otherwise);
- a state-changing step (keyed by ``CallSid`` + step, e.g. ``survey:12:0:1``) is stored with
  the TwiML we answered, in the same transaction as its effects; a retry or duplicate
  delivery gets the stored TwiML back and changes nothing;
- any exception (bad parameters, database down, a bug) is logged and answered with the
  handler's fallback TwiML, so the caller never hears "an application error has occurred";
  a fallback can ask ``database_unavailable()`` (the survey's spools the answer then);
- with ``keep=True``, a step the database could not take is kept in the spool (its path, the
  signed parameters and when it came, ``keep_for_later``) and applied later by
  ``view.replay`` through the same handler, once per step key (``webhooks.outage``);
- after a step reached the database, whatever was spooled while it was down is replayed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import Response, current_app, g, request
from sqlalchemy import exc as sa_exc, select
from sqlalchemy.exc import IntegrityError
from twilio.twiml.voice_response import VoiceResponse

from callflow.journey import NotOnThisCall
from store.base import utcnow
from store.calls import WebhookEvent
from store.spool import SpoolLost
from survey.answers import DUPLICATE, REFUSED, STORED
from survey.keypad import NoSurveyHere
from webhooks.security import require_twilio

log = logging.getLogger(__name__)


class BadParams(ValueError):
    """A webhook arrived without what the step needs (unknown ids, missing CallSid…)."""


# Twilio's documented values for its enumerated parameters; anything else is garbage, not a state.
TWILIO_ENUMS = {
    # "initiated": the status callback of StatusCallbackEvent=initiated (twilio.com/docs/voice/api/call-resource).
    "CallStatus": {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer",
                   "canceled"},
    "DialCallStatus": {"completed", "answered", "busy", "failed", "no-answer", "canceled"},
    "QueueResult": {"bridged", "bridging-in-process", "error", "hangup", "leave", "redirected",
                    "redirected-from-bridged", "queue-full", "system-error"},
    # twilio.com/docs/voice/twiml/record: recordingStatusCallback and transcribeCallback.
    "RecordingStatus": {"in-progress", "completed", "absent", "failed"},
    "TranscriptionStatus": {"completed", "failed"},
}
STEP_MAX = WebhookEvent.step.type.length
TWILIO_COUNTS = ("SequenceNumber", "CallDuration", "DialCallDuration", "QueueTime", "AvgQueueTime", "QueuePosition",
                 "RecordingDuration")


def clean(values: dict) -> dict:
    """Parameters as the handlers may trust them: no NUL (PostgreSQL text refuses it),
    enumerated Twilio parameters empty or one of their documented values, and counts
    (seconds, sequence numbers) empty or a whole number that fits a database integer."""
    out = {k.replace("\x00", ""): v.replace("\x00", "") for k, v in values.items()}
    for key, allowed in TWILIO_ENUMS.items():
        if out.get(key) and out[key] not in allowed:
            raise BadParams(f"{key}={out[key][:40]!r} is not a Twilio value")
    for key in TWILIO_COUNTS:
        raw = out.get(key, "").strip()
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            raise BadParams(f"{key}={raw[:40]!r} is not a count")
    return out


# Connection refused or lost, statement or lock timeout, pool exhausted: the database is not answering.
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def database_unavailable() -> bool:
    """In a fallback: did this request fail because the database did not answer?"""
    return isinstance(g.get("webhook_error"), DATABASE_DOWN)


def arg_int(values: dict, key: str, default: int | None = None) -> int:
    """A whole number from the URL (ids, question, attempt); BadParams when missing or garbage."""
    raw = values.get(key)
    if raw is None and default is not None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadParams(f"{key} must be a number") from None
    if not 0 <= value < 2**31:
        raise BadParams(f"{key} out of range")
    return value


def count(params: dict, key: str) -> int:
    """One of Twilio's counts (``QueueTime``, ``DialCallDuration``…), 0 when absent."""
    raw = (params.get(key) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def count_or_none(params: dict, key: str) -> int | None:
    raw = (params.get(key) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _replay_spool(db) -> None:
    from webhooks.outage import replay_pending
    try:
        replay_pending(current_app._get_current_object())
    except Exception:  # the caller's answer is already made; the spool waits for the next request
        log.warning("replaying the spool failed; will retry", exc_info=True)


def keep_for_later(params: dict, args: dict, *, path: str | None = None) -> str | None:
    """The database is down: keep this webhook (path, query, signed parameters, when it came)
    in the spool to be applied when it is back; returns where it went (None: only in the log)."""
    now = current_app.extensions.get("followup_clock", utcnow)()   # simulated in the emulator's proofs
    record = {"kind": "webhook", "path": path or request.path, "args": args, "params": params,
              "received_at": now.isoformat()}
    try:
        where = current_app.extensions["answer_spool"].append(record)
    except SpoolLost:
        return None
    log.warning("kept %s of %s in the spool (%s) until the database is back", record["path"],
                params.get("CallSid") or params.get("MessageSid"), where)
    return where


def twiml(doc: VoiceResponse | str) -> Response:
    return Response(str(doc), status=200, mimetype="text/xml")


def _stored(session, call_sid: str, step: str) -> str | None:
    return session.scalar(select(WebhookEvent.twiml).where(WebhookEvent.call_sid == call_sid,
                                                          WebhookEvent.step == step))


@dataclass(frozen=True)
class Prepared:
    """A step answered without reading the database first: its TwiML is known from the
    request and the definitions in memory, and ``write(engine, call_sid=, step=, endpoint=,
    params=, twiml=)`` stores the step record with all its effects at once, exactly once,
    returning ``(STORED | DUPLICATE | REFUSED, TwiML to answer)`` (see ``survey.answers.record_answer``)."""
    twiml: str
    write: Callable[..., tuple[str, str | None]]
    refused: str = "no such step for this call"


def voice_webhook(step: Callable[[dict, dict], str] | None, fallback: Callable[[dict, dict], VoiceResponse],
                  prepare: Callable[[dict, dict], Prepared | None] | None = None, keep: bool = False):
    """Decorate ``handler(session, params, args) -> VoiceResponse``; see the module docstring.

    ``prepare(params, args)``, for a keyed step, may return a ``Prepared`` fast path (one
    write, no reads before it) or None to run the handler as usual. ``keep``: spool the step
    when the database is down (a keyed step whose effects must not be lost)."""
    def deco(handler):
        def replay(params: dict, args: dict) -> str:
            """Apply a kept step as the live webhook would have: STORED, DUPLICATE (the step
            is already stored) or REFUSED (it can never apply). Raises when the database is down."""
            db = current_app.extensions["db"]
            call_sid = params.get("CallSid", "").strip()
            try:
                params, args = clean(params), clean(args)
                key = step(params, args)
                with db.session() as s:
                    if _stored(s, call_sid, key) is not None:
                        return DUPLICATE
                    text = str(handler(s, params, args))
                    s.add(WebhookEvent(call_sid=call_sid, step=key, endpoint=request.path, params=params, twiml=text))
                return STORED
            except IntegrityError:
                return DUPLICATE
            except (BadParams, NotOnThisCall, NoSurveyHere) as exc:
                log.warning("kept webhook %s of %s cannot be applied: %s", request.path, call_sid, exc)
                return REFUSED
            except DATABASE_DOWN:
                raise   # everything stays in the spool for the next replay
            except Exception:
                log.exception("kept webhook %s of %s failed; set aside", request.path, call_sid)
                return REFUSED


        @wraps(handler)
        @require_twilio
        def view():
            params = request.form.to_dict()
            args = request.args.to_dict()
            db = current_app.extensions["db"]
            key = None
            try:
                params, args = clean(params), clean(args)
                call_sid = params.get("CallSid", "").strip()
                if not call_sid or len(call_sid) > 64:
                    raise BadParams("missing or malformed CallSid")
                key = step(params, args) if step else None
                if key and len(key) > STEP_MAX:
                    raise BadParams("step key too long")
                fast = prepare(params, args) if prepare and key else None
                if fast is not None:
                    outcome, text = fast.write(db.engine, call_sid=call_sid, step=key, endpoint=request.path,
                                               params=params, twiml=fast.twiml)
                    if outcome == REFUSED and current_app.extensions["answer_spool"].pending:
                        # Perhaps what this step needs (the leg's end) is still in the spool: apply it, retry.
                        _replay_spool(db)
                        outcome, text = fast.write(db.engine, call_sid=call_sid, step=key, endpoint=request.path,
                                                   params=params, twiml=fast.twiml)
                    if outcome == REFUSED:
                        raise BadParams(fast.refused)
                    if outcome != DUPLICATE:
                        _replay_spool(db)
                    return twiml(text)
                with db.session() as s:
                    if key and (done := _stored(s, call_sid, key)) is not None:
                        return twiml(done)
                    text = str(handler(s, params, args))
                    if key:
                        s.add(WebhookEvent(call_sid=call_sid, step=key, endpoint=request.path,
                                           params=params, twiml=text))
                _replay_spool(db)
                return twiml(text)
            except IntegrityError:
                # The same step is being handled concurrently (a duplicate delivery): answer as it did.
                try:
                    with db.session() as s:
                        done = _stored(s, params.get("CallSid", ""), key) if key else None
                except DATABASE_DOWN as exc:   # the database went between the insert and this read
                    g.webhook_error, done = exc, None
                    log.error("database unavailable re-reading a duplicate %s (%s); answering with its fallback",
                              request.path, type(exc).__name__)
                if done is not None:
                    return twiml(done)
                if "webhook_error" not in g:
                    log.exception("integrity error in %s", request.path)
            except (BadParams, NotOnThisCall, NoSurveyHere) as exc:
                log.warning("bad webhook parameters on %s: %s", request.path, exc)
            except DATABASE_DOWN as exc:
                g.webhook_error = exc
                log.error("database unavailable in %s (%s); answering with its fallback", request.path,
                          type(exc).__name__)
                if keep and key:
                    keep_for_later(params, args)
            except Exception as exc:
                g.webhook_error = exc
                log.exception("voice webhook %s failed; answering with its fallback", request.path)
            try:
                return twiml(fallback(params, args))
            except Exception:
                log.exception("fallback for %s failed", request.path)
                return twiml(VoiceResponse())
        if keep:
            view.replay = replay
        return view
    return deco
