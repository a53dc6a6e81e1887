"""What a voice webhook answers when its step failed: valid TwiML that needs no database.

``webhooks.replay.voice_webhook`` calls a step's fallback with the request's parameters and
URL arguments whenever the step raised (bad parameters, the database down, a bug), so the
caller never hears "an application error has occurred".
"""
from __future__ import annotations

from flask import current_app
from twilio.twiml.voice_response import VoiceResponse

from callflow.hangup import classify_leg_end
from survey.keypad import Keypress, spool_answer
from webhooks import twiml
from webhooks.replay import BadParams, arg_int, count, database_unavailable


def _callers_language(params: dict, args: dict) -> str:
    """The language the URL carries or, on the language step, the one the caller just chose."""
    if args.get("lang"):
        return twiml.language(args["lang"])
    chosen = [lang.key for lang in twiml.menu().languages.values() if lang.digit == params.get("Digits")]
    return twiml.language(chosen[0] if chosen else None)


def apology_and_queue(params: dict, args: dict) -> VoiceResponse:
    """Keep the caller on a sane path: apologise, then queue for the default queue."""
    lang = _callers_language(params, args)
    resp = VoiceResponse()
    twiml.speak(resp, lang, twiml.menu().say(lang, "error"), twiml.menu().say(lang, "to_default"))
    return twiml.enqueue(resp, twiml.menu().default_queue, lang)


def keep_waiting(params: dict, args: dict) -> VoiceResponse:
    resp = VoiceResponse()
    resp.pause(length=10)
    return resp


def polite_goodbye(params: dict, args: dict) -> VoiceResponse:
    return twiml.goodbye(twiml.language(args.get("lang")), "error", "goodbye")


def leg_ended_offline(params: dict, args: dict) -> VoiceResponse:
    """The Dial action failed. With the database down (the leg's end is kept in the spool), a
    caller still on the line goes on: the survey starts from the URL alone when the agent hung
    up (its answers are spooled after the leg's end and applied after it), or back to the
    default queue when the agent never answered. Otherwise goodbye."""
    if database_unavailable() and (params.get("CallSid") or "").strip():
        try:
            leg_id = arg_int(args, "leg")
        except BadParams:
            return polite_goodbye(params, args)
        bridged = (params.get("DialBridged") or "").lower() == "true" if "DialBridged" in params else None
        end = classify_leg_end(params.get("CallStatus", ""), params.get("DialCallStatus", ""), bridged,
                               count(params, "DialCallDuration"))
        if end.start_survey:
            return twiml.start_survey(leg_id, twiml.language(args.get("lang")))
        if end.requeue:
            return apology_and_queue(params, args)
    return polite_goodbye(params, args)


def survey_thanks(params: dict, args: dict) -> VoiceResponse:
    return twiml.survey_thanks(twiml.language(args.get("lang")))


def words_go_on(params: dict, args: dict) -> VoiceResponse:
    """The Record action failed: the survey goes on from the URL alone (the words, if any,
    still arrive by the recording's own callbacks)."""
    lang = twiml.language(args.get("lang"))
    try:
        leg_id, raw_next = arg_int(args, "leg"), args.get("next", "")
        next_index = arg_int(args, "next") if raw_next != "" else None
        if next_index is not None and next_index >= len(twiml.survey().questions):
            raise BadParams("no such question")
    except BadParams:
        return survey_thanks(params, args)
    return twiml.survey_goes_on(VoiceResponse(), leg_id, next_index, lang)


def nothing(params: dict, args: dict) -> VoiceResponse:
    return VoiceResponse()


def spool_answer_and_continue(params: dict, args: dict) -> VoiceResponse | str:
    """The survey's fallback: when the database cannot take an answer, keep it in the local
    spool (``survey.spool``) and go on with the survey as if it was stored: everything needed
    is in the URL and the definition in memory. Bad parameters or a bug: thanks and goodbye."""
    call_sid = (params.get("CallSid") or "").strip()
    if not database_unavailable() or not call_sid:
        return survey_thanks(params, args)
    lang = twiml.language(args.get("lang"))
    try:
        press = Keypress(arg_int(args, "leg"), arg_int(args, "q"), arg_int(args, "attempt", 1), params.get("Digits"))
        decision = spool_answer(current_app.extensions["answer_spool"], twiml.survey(), call_sid, press)
    except (BadParams, LookupError):
        return survey_thanks(params, args)
    if decision.transfer:   # the leg's queue is in the database: the default queue takes the caller
        return twiml.transfer(twiml.menu().default_queue, lang)
    return twiml.survey_next_twiml(press.leg_id, press.index, decision, lang)
