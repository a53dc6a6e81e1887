"""Click-to-call: the voice URLs of the call a supervisor's "call back" places.

``/callback/voice/answer?a=<attempt>&lang=<lang>`` is the call's ``url``: the supervisor picked up; they
hear one short line, then ``<Dial callerId=TWILIO_FROM_NUMBER>`` rings the caller's number,
so the caller sees the centre's number. ``/callback/voice/dial`` is the Dial's ``action``
(``DialCallStatus``, ``DialCallDuration``), ``/callback/voice/leg`` the caller's leg's own
status callback (``CallStatus``, ``CallDuration``; it comes even when the supervisor hung up
first and the action does not), ``/callback/voice/status`` the supervisor's leg's status
callback. All go through ``webhooks.replay.voice_webhook``: signed, keyed per step (a
duplicate gets the same answer, changes nothing), always valid TwiML; the order they come
in does not matter (``callbacks.calling``). While the database is down each is kept in the
spool (``keep=True``) and applied by the same view when it is back; the supervisor hears the
apology and the call ends (the attempt's language is in the database: the menu's default).
"""
from __future__ import annotations

from flask import Blueprint, current_app, url_for
from twilio.twiml.voice_response import VoiceResponse

from callbacks import calling
from store.users import User
from webhooks.replay import BadParams, arg_int, count_or_none, voice_webhook
from webhooks.sms import clock

bp = Blueprint("callback_voice", __name__, url_prefix="/callback/voice")
DIAL_SECONDS = 30   # how long the caller's phone rings
LINE = {
    "en": "Aftercall call-back, task {id}. Connecting you to the caller; they will see the centre's number.",
    "ru": "Перезвон Aftercall, задача {id}. Соединяю с клиентом; он увидит номер центра.",
}
SORRY = {
    "en": "This call-back cannot be connected now. Goodbye.",
    "ru": "Сейчас этот перезвон соединить нельзя. До свидания.",
}
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")


def _key(name: str):
    return lambda p, a: f"c2c:{a.get('a', '-')}:{name}"


def _attempt(s, params: dict, args: dict, sid_param: str = "CallSid"):
    try:
        return calling.attempt_for(s, arg_int(args, "a"), params.get(sid_param, ""), params.get("To"))
    except calling.NotThisCall as exc:
        raise BadParams(str(exc)) from None


def _say(resp: VoiceResponse, lang: str, text: dict) -> None:
    language = current_app.config["MENU"].language(lang)
    resp.say(text.get(language.key, text["en"]), voice=language.voice, language=language.say_language)


def sorry(params: dict, args: dict) -> VoiceResponse:
    resp = VoiceResponse()
    _say(resp, args.get("lang", ""), SORRY)
    resp.hangup()
    return resp


def nothing(params: dict, args: dict) -> VoiceResponse:
    return VoiceResponse()


@bp.post("/answer")
@voice_webhook(step=_key("answer"), fallback=sorry, keep=True)
def answer(s, params, args):
    attempt = _attempt(s, params, args)
    task = calling.supervisor_answered(s, attempt, clock())
    resp = VoiceResponse()
    lang = s.get(User, attempt.user_id).locale
    if task is None:
        _say(resp, lang, SORRY)
        resp.hangup()
        return resp
    _say(resp, lang, {k: v.format(id=task.id) for k, v in LINE.items()})
    dial = resp.dial(caller_id=current_app.config["SETTINGS"].twilio_from_number or None,
                     action=url_for("callback_voice.dial", a=attempt.id), method="POST", timeout=DIAL_SECONDS)
    dial.number(task.caller_number, status_callback=url_for("callback_voice.leg", a=attempt.id),
                status_callback_event="completed", status_callback_method="POST")
    return resp


@bp.post("/dial")
@voice_webhook(step=_key("dial"), fallback=nothing, keep=True)
def dial(s, params, args):
    attempt = _attempt(s, params, args)
    calling.caller_outcome(s, attempt, params.get("DialCallStatus", ""), count_or_none(params, "DialCallDuration"),
                           clock(), caller_sid=params.get("DialCallSid"))
    resp = VoiceResponse()
    resp.hangup()
    return resp


@bp.post("/leg")
@voice_webhook(step=lambda p, a: f"c2c:{a.get('a', '-')}:leg:{p.get('CallStatus', '')}", fallback=nothing,
               keep=True)
def leg(s, params, args):
    attempt = _attempt(s, params, args, sid_param="ParentCallSid")
    if params.get("CallStatus") in FINAL_STATUSES:
        calling.caller_outcome(s, attempt, params["CallStatus"], count_or_none(params, "CallDuration"), clock(),
                               caller_sid=params.get("CallSid"))
    return VoiceResponse()


@bp.post("/status")
@voice_webhook(step=lambda p, a: f"c2c:{a.get('a', '-')}:status:{p.get('CallStatus', '')}", fallback=nothing,
               keep=True)
def status(s, params, args):
    attempt = _attempt(s, params, args)
    if params.get("CallStatus") in FINAL_STATUSES:
        calling.supervisor_status(s, attempt, params["CallStatus"], count_or_none(params, "CallDuration"), clock())
    return VoiceResponse()
