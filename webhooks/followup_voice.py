"""The call-back follow-up survey: the voice URLs of a ``Calls.create`` made for a follow-up.

``/followup/voice/start?fu=<id>&lang=<lang>`` is the call's ``url``: Twilio requests it once machine
detection has decided (``AnsweredBy``). A machine, a fax or a follow-up that is no longer
open gets a plain hang-up, no survey; a person hears the intro and the first missing
question. ``/followup/voice/answer`` is each ``<Gather>``'s action (the same pure decision
as the in-call keypad, ``survey.flow.step``); ``/followup/voice/status`` the call's status
callback. All go through ``webhooks.replay.voice_webhook``: signed, keyed per step, always
valid TwiML. Answers are stored with channel ``callback``. While the database is down the
start, an answer and the call's status are kept in the spool and applied when it is back; the
caller is thanked or, at the start, hears an apology, in the ``lang`` of the URL (the follow-up's
language, written into every URL of its call), and the call ends.
"""
from __future__ import annotations

from flask import Blueprint, current_app, url_for
from twilio.twiml.voice_response import VoiceResponse

from store.followups import Followup
from survey import followups
from survey.flow import step as survey_step
from webhooks.replay import BadParams, database_unavailable, voice_webhook
from webhooks.sms import clock

bp = Blueprint("followup_voice", __name__, url_prefix="/followup/voice")
SORRY = {
    "en": "Sorry, we cannot take your answers right now. Goodbye.",
    "ru": "Извините, сейчас мы не можем принять ваши ответы. До свидания.",
}
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")


def _setup():
    return current_app.config["FOLLOWUPS"]


def _speak(node, lang: str, text: str) -> None:
    language = current_app.config["MENU"].language(lang)
    node.say(text, voice=language.voice, language=language.say_language)


def _followup(s, params: dict, args: dict) -> Followup:
    raw = args.get("fu", "")
    fu = s.get(Followup, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if (fu is not None and fu.twilio_sid is None and fu.attempt_started_at is not None and fu.channel == "callback"
            and fu.state in ("scheduled", "queued", "sending") and params.get("To") == fu.to_number):
        followups.adopt(s, fu, _setup().policy, clock(), params.get("CallSid"))   # Calls.create's answer was lost
    if fu is None or fu.channel != "callback" or fu.twilio_sid != params.get("CallSid"):
        raise BadParams("no call-back follow-up for this call")
    return fu


def _ask(resp: VoiceResponse, fu: Followup, position: int, attempt: int) -> VoiceResponse:
    survey = _setup().survey
    q = followups.question(survey, fu.questions[position])
    action = url_for("followup_voice.answer", fu=fu.id, q=position, attempt=attempt, lang=fu.language)
    gather = resp.gather(num_digits=1, action=action, method="POST", timeout=survey.gather_timeout,
                         action_on_empty_result=True)
    _speak(gather, fu.language, q.text[fu.language])
    return resp


def goodbye(params: dict, args: dict) -> VoiceResponse:
    resp = VoiceResponse()
    resp.hangup()
    return resp


def sorry_offline(params: dict, args: dict) -> VoiceResponse:
    """The start could not reach the database: it is kept (``keep=True``); a person on the
    line hears why the call ends, a machine nothing."""
    resp = VoiceResponse()
    if database_unavailable() and params.get("AnsweredBy", "") not in MACHINE:
        language = current_app.config["MENU"].language(args.get("lang"))
        resp.say(SORRY.get(language.key, SORRY["en"]), voice=language.voice, language=language.say_language)
    resp.hangup()
    return resp


def thanks_offline(params: dict, args: dict) -> VoiceResponse:
    """The answer could not reach the database: it is kept (``keep=True``); thank the caller
    and end the call rather than ask the next question blind."""
    lang = args.get("lang") or ""
    if not database_unavailable() or "thanks" not in _setup().survey.prompts.get(lang, {}):
        return goodbye(params, args)
    resp = VoiceResponse()
    _speak(resp, lang, _setup().survey.say(lang, "thanks"))
    resp.hangup()
    return resp


@bp.post("/start")
@voice_webhook(step=lambda p, a: f"followup:{a.get('fu', '-')}:start", fallback=sorry_offline,
               keep=True)
def start(s, params, args):
    fu = _followup(s, params, args)
    resp = VoiceResponse()
    if params.get("AnsweredBy", "") in MACHINE:
        if fu.state == "sent":
            fu.state, fu.reason, fu.updated_at = "no-answer", "machine", clock()
        resp.hangup()
        return resp
    if fu.state != "sent" or (fu.expires_at is not None and clock() >= fu.expires_at):
        resp.hangup()
        return resp
    _speak(resp, fu.language, _setup().survey.say(fu.language, "intro"))
    return _ask(resp, fu, fu.position, 1)


@bp.post("/answer")
@voice_webhook(step=lambda p, a: f"followup:{a.get('fu', '-')}:{a.get('q', '-')}:{a.get('attempt', '1')}",
               fallback=thanks_offline, keep=True)
def answer(s, params, args):
    fu = _followup(s, params, args)
    survey = _setup().survey
    raw_q, raw_attempt = args.get("q", ""), args.get("attempt", "1")
    if not (raw_q.isdigit() and raw_attempt.isdigit()) or int(raw_q) != fu.position or fu.state != "sent":
        raise BadParams("not the question this call-back is on")
    position, attempt = int(raw_q), int(raw_attempt)
    key = fu.questions[position]
    index = next(i for i, q in enumerate(survey.questions) if q.key == key)
    decision = survey_step(survey, index, params.get("Digits"), attempt)
    resp = VoiceResponse()
    if decision.reprompt:
        _speak(resp, fu.language, survey.say(fu.language, decision.reprompt.replace("-", "_")))
        return _ask(resp, fu, position, decision.next_attempt)
    if not followups.store_answer(s, fu, survey, decision.record, clock()) or fu.state == "answered":
        _speak(resp, fu.language, survey.say(fu.language, "thanks"))
        resp.hangup()
        return resp
    return _ask(resp, fu, fu.position, 1)


@bp.post("/status")
@voice_webhook(step=lambda p, a: f"followup:{a.get('fu', '-')}:status:{p.get('CallStatus', '')}", fallback=goodbye,
               keep=True)
def status(s, params, args):
    fu = _followup(s, params, args)
    if params.get("CallStatus") in ("completed", "busy", "no-answer", "failed", "canceled"):
        followups.call_status(s, fu, params["CallStatus"], clock())
    return VoiceResponse()
