"""Twilio's Messaging webhooks for follow-up surveys: incoming SMS and message status.

``POST /sms/incoming`` (the number's "A message comes in" URL) answers Messaging TwiML: a
``<Message>`` (the next question, a re-ask, thanks, a polite word to a number we did not
ask) or an empty ``<Response/>``. Twilio may deliver a message twice: the reply is keyed on
``MessageSid`` and stored with its TwiML (``WebhookEvent``), so a duplicate gets the same
answer and stores nothing. ``POST /sms/status`` is the ``StatusCallback`` of the messages
we send. Both are signed (403 otherwise). Neither ever answers an error to Twilio for bad
input: a garbage body is a reply we cannot read, and an unknown SID is ignored. Twilio does
not retry a messaging webhook, so one that comes while the database is down is kept in the
spool (``webhooks.replay.keep_for_later``; a reply is answered with an empty ``<Response/>``)
and applied by the view's ``replay`` when the database is back, at the time it came; the
answer Twilio could not be given then (the next question, thanks…) goes out as a message of
its own, by a job submitted with the reply (``aftercall.followups.late_reply_job``).
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.twiml.messaging_response import MessagingResponse

from store.base import utcnow
from store.calls import WebhookEvent
from store.jobs import submit
from callbacks import checks
from survey import followup_sms, followups
from survey.answers import DUPLICATE, REFUSED, STORED
from webhooks.replay import DATABASE_DOWN, keep_for_later
from webhooks.security import require_twilio

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/sms")
STEP = "sms-incoming"


def clock():
    """Now, for follow-up decisions (a kept webhook replayed later: when it came); the
    emulator proof replaces it with simulated time."""
    return g.get("received_at") or current_app.extensions.get("followup_clock", utcnow)()


def messaging_twiml(text: str | None) -> Response:
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return Response(str(resp), status=200, mimetype="text/xml")


def _form() -> dict:
    return {k.replace("\x00", ""): v.replace("\x00", "") for k, v in request.form.to_dict().items()}


def _stored(s, sid: str) -> str | None:
    return s.scalar(select(WebhookEvent.twiml).where(WebhookEvent.call_sid == sid, WebhookEvent.step == STEP))


def _check_reply(session, policy, params: dict) -> str | None:
    """The answer to a call-back check ("Is your question resolved now?"), when the number has
    one open and the message is not STOP (the follow-ups' opt-out handles that)."""
    if params.get("OptOutType") or followup_sms.is_stop(params.get("Body", ""), ""):
        return None
    found = checks.reply(session, params.get("From", ""), params.get("Body", ""), clock())
    if found is None:
        return None
    check, answer = found
    if answer is None:
        return f"{policy.text(check.language, 'reask')} {policy.text(check.language, 'q_resolved_now')}"
    return policy.text(check.language, "resolved_thanks")


def _reply(params: dict, sid: str, late: bool = False) -> tuple[str, str]:
    """The reply's effects and Messaging TwiML, once per ``MessageSid``: (STORED or DUPLICATE, TwiML).
    ``late`` (a kept reply): its answer is sent by a job, in the same transaction."""
    fs = current_app.config["FOLLOWUPS"]
    db = current_app.extensions["db"]
    try:
        with db.session() as s:
            stored = _stored(s, sid)
            if stored is not None:
                return DUPLICATE, stored
            text = _check_reply(s, fs.policy, params) or followups.sms_reply(
                s, fs.policy, fs.survey, number=params.get("From", ""), body=params.get("Body", ""),
                opt_out_type=params.get("OptOutType", ""), now=clock())
            body = messaging_twiml(text).get_data(as_text=True)
            s.add(WebhookEvent(call_sid=sid, step=STEP, endpoint=request.path, params=params, twiml=body))
            if late and text:
                submit(s, current_app.extensions["late_reply_job"], created_by="spool", message_sid=sid,
                       to=params.get("From", ""), body=text)
        return STORED, body
    except IntegrityError:   # the same MessageSid handled concurrently: answer as it did
        with db.session() as s:
            return DUPLICATE, _stored(s, sid) or str(MessagingResponse())


@bp.post("/incoming")
@require_twilio
def incoming():
    params = _form()
    sid = params.get("MessageSid", "").strip()
    if not sid or len(sid) > 64:
        log.warning("incoming SMS without a usable MessageSid")
        return messaging_twiml(None)
    try:
        _, body = _reply(params, sid)
    except DATABASE_DOWN as exc:
        log.error("database unavailable for the SMS %s (%s); keeping it for later", sid, type(exc).__name__)
        keep_for_later(params, {})
        return messaging_twiml(None)
    return Response(body, status=200, mimetype="text/xml")


def _replay(params: dict, args: dict) -> str:
    """A reply kept while the database was down (Twilio got ``<Response/>``: its answer goes by a job)."""
    sid = params.get("MessageSid", "").strip()
    try:
        outcome, _ = _reply(params, sid, late=True)
    except DATABASE_DOWN:
        raise   # everything stays in the spool for the next replay
    except Exception:
        log.exception("kept SMS %s failed; set aside", sid)
        return REFUSED
    return outcome


incoming.replay = _replay


@bp.post("/status")
@require_twilio
def status():
    params = _form()
    sid, state = params.get("MessageSid", "").strip(), params.get("MessageStatus", "").strip()
    if not sid or not state or len(sid) > 64 or len(state) > 20:
        return Response("", status=204)
    try:
        _message_status(params)
    except DATABASE_DOWN as exc:
        log.error("database unavailable for the status of %s (%s); keeping it for later", sid, type(exc).__name__)
        keep_for_later(params, {})
    return Response("", status=204)


def _message_status(params: dict) -> str:
    """Apply a message's status (it only moves forward, so applying it again changes nothing)."""
    sid, state = params.get("MessageSid", "").strip(), params.get("MessageStatus", "").strip()
    code = params.get("ErrorCode", "").strip()
    with current_app.extensions["db"].session() as s:
        if not followups.message_status(s, sid, state, int(code) if code.isdigit() and len(code) < 9 else None,
                                        clock()):
            log.info("status callback for a message that is not a follow-up: %s", sid)
    return STORED


status.replay = lambda params, args: _message_status(params)
