"""The caller's journey as Twilio webhooks: IVR → queue → agent → post-call survey.

Every URL here is relative to the request Twilio made, and carries the caller's language
(``lang``) so that even a fallback answer speaks it without touching the database.
"""
from __future__ import annotations

import math
from functools import partial

from flask import Blueprint, current_app, request, url_for
from sqlalchemy import func, select
from twilio.twiml.voice_response import VoiceResponse

from callflow.calls import apply_status, open_call
from callflow.hangup import classify_leg_end
from callflow.routing import enqueue, rank_in_queue, release_agent, release_reservation, set_presence, try_assign
from ivr.choices import Accepted, GaveUp, resolve_digits
from store.agents import Agent
from store.base import utcnow
from store.calls import Leg, QueueEntry
from survey.answers import record_answer
from survey.flow import SurveyStep, step as survey_step
from webhooks.replay import BadParams, Prepared, voice_webhook
from webhooks.survey_offline import spool_answer_and_continue

bp = Blueprint("voice", __name__, url_prefix="/voice")


def _menu():
    return current_app.config["MENU"]


def _survey():
    return current_app.config["SURVEY"]


def _lang(args: dict, default: str | None = None) -> str:
    menu = _menu()
    return menu.language(args.get("lang") or default).key


def speak(node, lang: str, *texts: str) -> None:
    language = _menu().language(lang)
    for text in texts:
        node.say(text, voice=language.voice, language=language.say_language)


def _arg_int(args: dict, key: str, default: int | None = None) -> int:
    raw = args.get(key)
    if raw is None and default is not None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadParams(f"{key} must be a number") from None
    if not 0 <= value < 2**31:
        raise BadParams(f"{key} out of range")
    return value


def _param_int(params: dict, key: str) -> int:
    raw = (params.get(key) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def _gather(resp: VoiceResponse, action: str, timeout: int):
    return resp.gather(num_digits=1, action=action, method="POST", timeout=timeout,
                       action_on_empty_result=True)


# --- rendering the steps -------------------------------------------------------------

def ask_language(resp: VoiceResponse, attempt: int) -> VoiceResponse:
    menu = _menu()
    gather = _gather(resp, url_for("voice.language", attempt=attempt), menu.gather_timeout)
    for lang in menu.languages:
        texts = [menu.say(lang, "choose_language")]
        if attempt == 1:
            texts.insert(0, menu.say(lang, "welcome"))
        speak(gather, lang, *texts)
    return resp


def ask_menu(resp: VoiceResponse, lang: str, attempt: int) -> VoiceResponse:
    menu = _menu()
    gather = _gather(resp, url_for("voice.menu", attempt=attempt, lang=lang), menu.gather_timeout)
    speak(gather, lang, *menu.menu_lines(lang))
    return resp


def to_queue(resp: VoiceResponse, entry: QueueEntry, lang: str, *, announce: bool = True) -> VoiceResponse:
    if announce:
        speak(resp, lang, _menu().say(lang, "connecting"))
    resp.enqueue(entry.queue, wait_url=url_for("voice.queue_wait", entry=entry.id, lang=lang), wait_url_method="POST",
                 action=url_for("voice.queue_done", entry=entry.id, lang=lang), method="POST")
    return resp


def ask_question(resp: VoiceResponse, leg_id: int | str, index: int, attempt: int, lang: str) -> VoiceResponse:
    survey = _survey()
    gather = _gather(resp, url_for("voice.survey", leg=leg_id, q=index, attempt=attempt, lang=lang),
                     survey.gather_timeout)
    speak(gather, lang, survey.question(index).text[lang])
    return resp


def survey_next(resp: VoiceResponse, leg_id: int | str, index: int, decision: SurveyStep, lang: str) -> VoiceResponse:
    """After an answer that does not send the caller back to an agent: the re-prompt, the
    next question, or thanks and goodbye."""
    survey = _survey()
    if decision.reprompt:
        speak(resp, lang, survey.say(lang, decision.reprompt.replace("-", "_")))
        return ask_question(resp, leg_id, index, decision.next_attempt, lang)
    if decision.next_index is not None:
        return ask_question(resp, leg_id, decision.next_index, 1, lang)
    speak(resp, lang, survey.say(lang, "thanks"))
    resp.hangup()
    return resp


_LEG = "LEGxID"   # stands for the leg id in a cached rendering; never produced by the survey's texts or URLs
_TWIML_CACHE_MAX = 1024


def survey_next_twiml(leg_id: int, index: int, decision: SurveyStep, lang: str) -> str:
    """``survey_next`` as text, rendered by the twilio package once per (question, attempt,
    outcome, language) and per URL root, with only the leg id put in per request."""
    cache = current_app.extensions.setdefault("survey_twiml", {})
    key = (id(_survey()), request.script_root, lang, index, decision.reprompt, decision.next_attempt,
           decision.next_index)
    text = cache.get(key)
    if text is None:
        if len(cache) >= _TWIML_CACHE_MAX:
            cache.clear()
        text = cache[key] = str(survey_next(VoiceResponse(), _LEG, index, decision, lang))
    return text.replace(_LEG, str(leg_id))


def goodbye(lang: str, key: str = "goodbye") -> VoiceResponse:
    resp = VoiceResponse()
    speak(resp, lang, _menu().say(lang, key))
    resp.hangup()
    return resp


# --- fallbacks: valid TwiML with no database --------------------------------------------

def apology_and_queue(params: dict, args: dict) -> VoiceResponse:
    """Keep the caller on a sane path: apologise, then queue for the default queue."""
    lang = _lang(args)
    resp = VoiceResponse()
    speak(resp, lang, _menu().say(lang, "error"), _menu().say(lang, "to_default"))
    resp.enqueue(_menu().default_queue, wait_url=url_for("voice.queue_wait", lang=lang), wait_url_method="POST",
                 action=url_for("voice.queue_done", lang=lang), method="POST")
    return resp


def keep_waiting(params: dict, args: dict) -> VoiceResponse:
    resp = VoiceResponse()
    resp.pause(length=10)
    return resp


def polite_goodbye(params: dict, args: dict) -> VoiceResponse:
    lang = _lang(args)
    resp = VoiceResponse()
    speak(resp, lang, _menu().say(lang, "error"), _menu().say(lang, "goodbye"))
    resp.hangup()
    return resp


def survey_thanks(params: dict, args: dict) -> VoiceResponse:
    lang = _lang(args)
    resp = VoiceResponse()
    speak(resp, lang, _survey().say(lang, "thanks"))
    resp.hangup()
    return resp


def nothing(params: dict, args: dict) -> VoiceResponse:
    return VoiceResponse()


# --- webhooks -------------------------------------------------------------------------

@bp.post("/incoming")
@voice_webhook(step=lambda p, a: "incoming", fallback=apology_and_queue)
def incoming(s, params, args):
    """Voice URL of the phone number: greeting, then the language choice."""
    call = open_call(s, params)
    menu = _menu()
    resp = VoiceResponse()
    if not menu.hours.is_open(utcnow()):
        call.after_hours = True
        for lang in menu.languages:
            speak(resp, lang, menu.say(lang, "closed"))
        resp.hangup()
        return resp
    if len(menu.languages) == 1:
        call.language = menu.default_language
        return ask_menu(resp, call.language, 1)
    return ask_language(resp, 1)


@bp.post("/language")
@voice_webhook(step=lambda p, a: f"language:{a.get('attempt', '1')}", fallback=apology_and_queue)
def language(s, params, args):
    menu = _menu()
    attempt = _arg_int(args, "attempt", 1)
    call = open_call(s, params)
    digits = {lang.digit for lang in menu.languages.values()}
    decision = resolve_digits(params.get("Digits"), digits, attempt, menu.max_attempts)
    resp = VoiceResponse()
    if isinstance(decision, Accepted):
        call.language = menu.language_by_digit(decision.value).key
    elif isinstance(decision, GaveUp):
        call.language = menu.default_language
    else:
        for lang in menu.languages:
            speak(resp, lang, menu.say(lang, decision.reason.replace("-", "_")))
        return ask_language(resp, decision.next_attempt)
    return ask_menu(resp, call.language, 1)


@bp.post("/menu")
@voice_webhook(step=lambda p, a: f"menu:{a.get('attempt', '1')}", fallback=apology_and_queue)
def menu(s, params, args):
    menu = _menu()
    attempt = _arg_int(args, "attempt", 1)
    call = open_call(s, params)
    lang = _lang(args, call.language)
    call.language = call.language or lang
    decision = resolve_digits(params.get("Digits"), {o.digit for o in menu.options}, attempt, menu.max_attempts)
    resp = VoiceResponse()
    if isinstance(decision, Accepted):
        call.menu_key = decision.value
        return to_queue(resp, enqueue(s, call, menu.option_by_digit(decision.value).queue, "menu"), lang)
    speak(resp, lang, menu.say(lang, decision.reason.replace("-", "_")))
    if isinstance(decision, GaveUp):
        speak(resp, lang, menu.say(lang, "to_default"))
        return to_queue(resp, enqueue(s, call, menu.default_queue, "default"), lang, announce=False)
    return ask_menu(resp, lang, decision.next_attempt)


def _entry(s, params: dict, args: dict) -> QueueEntry:
    """The queue visit named in the URL, or (on a fallback path) the call's latest one."""
    call = open_call(s, params)
    if "entry" in args:
        entry = s.get(QueueEntry, _arg_int(args, "entry"))
        if entry is None or entry.call_sid != call.sid:
            raise BadParams("entry does not belong to this call")
        return entry
    entry = s.scalar(select(QueueEntry).where(QueueEntry.call_sid == call.sid)
                     .order_by(QueueEntry.visit.desc()).limit(1))
    if entry is None or entry.state not in ("waiting", "reserved"):
        entry = enqueue(s, call, _menu().default_queue, "fallback")
    return entry


@bp.post("/queue/wait")
@voice_webhook(step=None, fallback=keep_waiting)
def queue_wait(s, params, args):
    """Enqueue ``waitUrl``, requested again each time its TwiML ends: match an agent or
    tell the caller where they stand (twilio.com/docs/voice/twiml/enqueue#attributes-wait-url)."""
    entry = _entry(s, params, args)
    lang = _lang(args)
    resp = VoiceResponse()
    if try_assign(s, entry) is not None:
        resp.leave()
        return resp
    waited = _param_int(params, "QueueTime")
    position = rank_in_queue(s, entry) if entry.state == "waiting" else 1
    # Announce on a new position or a minute on; a retried request (same QueueTime) hears it again.
    if (entry.announced_position != position or waited - (entry.announced_at_wait or 0) >= 60
            or waited == entry.announced_at_wait):
        entry.announced_position, entry.announced_at_wait = position, waited
        expected = max(_param_int(params, "AvgQueueTime") - waited, 30 * position)
        minutes = math.ceil(expected / 60)
        menu = _menu()
        speak(resp, lang, menu.say(lang, "position", position=position),
              menu.say(lang, "expected_wait", minutes=minutes) if expected >= 60
              else menu.say(lang, "expected_wait_short"))
    resp.pause(length=5)
    return resp


@bp.post("/queue/done")
@voice_webhook(step=lambda p, a: f"queue-done:{a.get('entry', '-')}:{p.get('QueueResult', '')}",
               fallback=polite_goodbye)
def queue_done(s, params, args):
    """Enqueue ``action``: the caller left the queue (``QueueResult``)."""
    entry = _entry(s, params, args)
    lang = _lang(args)
    result = params.get("QueueResult", "")
    if not result:
        raise BadParams("QueueResult missing")
    entry.result = result
    entry.wait_seconds = _param_int(params, "QueueTime")
    resp = VoiceResponse()
    if result == "leave" and entry.state == "reserved":
        entry.state = "left"
        return dial_agent(s, resp, entry, lang)
    if result in ("hangup", "bridged", "redirected", "redirected-from-bridged"):
        release_reservation(s, entry)
        entry.state = "abandoned" if result == "hangup" else "left"
        return resp
    # leave without a reservation, error, system-error, queue-full: try once more, then apologise.
    release_reservation(s, entry)
    entry.state = "failed"
    call = entry.call
    if len(call.entries) < 4:
        speak(resp, lang, _menu().say(lang, "error"))
        return to_queue(resp, enqueue(s, call, entry.queue, "retry", priority=1), lang, announce=False)
    return goodbye(lang, "error")


def dial_agent(s, resp: VoiceResponse, entry: QueueEntry, lang: str) -> VoiceResponse:
    agent = s.get(Agent, entry.agent_id)
    seq = (s.scalar(select(func.max(Leg.seq)).where(Leg.call_sid == entry.call_sid)) or 0) + 1
    leg = Leg(call_sid=entry.call_sid, seq=seq, entry_id=entry.id, queue=entry.queue, agent_id=agent.id,
              language=lang, queue_seconds=entry.wait_seconds)
    s.add(leg)
    s.flush()
    dial = resp.dial(action=url_for("voice.dial_done", leg=leg.id, lang=lang), method="POST",
                     timeout=current_app.config["SETTINGS"].dial_timeout)
    if agent.phone:
        dial.number(agent.phone)
    else:
        dial.client(agent.id)
    return resp


@bp.post("/dial/done")
@voice_webhook(step=lambda p, a: f"dial-done:{a.get('leg', '-')}", fallback=polite_goodbye)
def dial_done(s, params, args):
    """Dial ``action``: the agent leg ended; who hung up decides whether the survey runs."""
    call = open_call(s, params)
    leg = s.get(Leg, _arg_int(args, "leg"))
    if leg is None or leg.call_sid != call.sid:
        raise BadParams("leg does not belong to this call")
    lang = _lang(args, leg.language)
    end = classify_leg_end(params.get("CallStatus", ""), params.get("DialCallStatus", ""),
                           (params.get("DialBridged") or "").lower() == "true" if "DialBridged" in params else None,
                           _param_int(params, "DialCallDuration"))
    leg.dial_status = params.get("DialCallStatus", "")[:16]
    leg.dial_call_sid = params.get("DialCallSid", "")[:64] or None
    leg.bridged = end.outcome == "handled"
    leg.talk_seconds = _param_int(params, "DialCallDuration") if leg.bridged else 0
    leg.ended_by = end.ended_by
    leg.ended_at = utcnow()
    agent = s.get(Agent, leg.agent_id)
    if end.agent_unreachable:
        set_presence(s, agent, "offline")
    else:
        release_agent(s, leg.agent_id, current_app.config["SETTINGS"].wrapup_seconds)
    resp = VoiceResponse()
    if end.start_survey:
        leg.survey_state, leg.survey_version = "offered", _survey().version
        speak(resp, lang, _survey().say(lang, "intro"))
        return ask_question(resp, leg.id, 0, 1, lang)
    if end.requeue:
        speak(resp, lang, _menu().say(lang, "agent_unavailable"))
        return to_queue(resp, enqueue(s, call, leg.queue, "requeue", priority=1), lang, announce=False)
    return resp


def survey_fast(params: dict, args: dict) -> Prepared | None:
    """The survey's usual step, with no read before its one write: the URL names the leg,
    question, attempt and language, and the definition in memory decides the next TwiML; the
    write checks the leg (``survey.flow.store_step``). A transfer back to an agent (a new
    queue entry) or a URL without ``lang`` (the leg's language) takes the full handler."""
    if not args.get("lang"):
        return None
    survey_def = _survey()
    leg_id, index, attempt = _arg_int(args, "leg"), _arg_int(args, "q"), _arg_int(args, "attempt", 1)
    if index >= len(survey_def.questions):
        raise BadParams("no such question")
    decision = survey_step(survey_def, index, params.get("Digits"), attempt)
    if decision.transfer:
        return None
    return Prepared(survey_next_twiml(leg_id, index, decision, _lang(args)),
                    partial(_record_step, leg_id=leg_id, decision=decision, version=survey_def.version),
                    refused="no survey running for this leg")


def _record_step(engine, *, leg_id: int, decision: SurveyStep, version: str, call_sid: str, **event):
    return record_answer(engine, leg_id=leg_id, call_sid=call_sid, record=decision.record,
                         finish=decision.finished, version=version, event=event)


@bp.post("/survey")
@voice_webhook(step=lambda p, a: f"survey:{a.get('leg', '-')}:{a.get('q', '-')}:{a.get('attempt', '1')}",
               fallback=spool_answer_and_continue, prepare=survey_fast)
def survey(s, params, args):
    """Gather ``action`` of a survey question: store the answer at once, then move on."""
    call = open_call(s, params)
    leg = s.get(Leg, _arg_int(args, "leg"))
    if leg is None or leg.call_sid != call.sid or leg.survey_state == "not-offered":
        raise BadParams("no survey running for this leg")
    survey_def = _survey()
    index, attempt = _arg_int(args, "q"), _arg_int(args, "attempt", 1)
    if index >= len(survey_def.questions):
        raise BadParams("no such question")
    lang = _lang(args, leg.language)
    decision = survey_step(survey_def, index, params.get("Digits"), attempt)
    record_answer(s, leg_id=leg.id, call_sid=call.sid, record=decision.record, finish=False,
                  version=survey_def.version)
    if decision.transfer:
        leg.survey_state = "finished"
        resp = VoiceResponse()
        speak(resp, lang, survey_def.say(lang, "transfer"))
        return to_queue(resp, enqueue(s, call, leg.queue, "transfer-back", priority=1), lang, announce=False)
    if decision.finished:
        leg.survey_state = "finished"
    return survey_next_twiml(leg.id, index, decision, lang)


@bp.post("/status")
@voice_webhook(step=lambda p, a: f"status:{p.get('SequenceNumber', '-')}:{p.get('CallStatus', '')}",
               fallback=nothing)
def status(s, params, args):
    """Status callback: final status, ``CallDuration`` and ``Timestamp``; stale ones are ignored."""
    apply_status(s, open_call(s, params), params)
    return VoiceResponse()
