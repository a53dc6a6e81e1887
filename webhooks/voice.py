"""The caller's journey as Twilio webhooks: IVR → queue → agent → post-call survey.

Each view parses what Twilio sent, calls one step of the journey (``callflow.journey``, or
the survey's ``survey.keypad``), and renders the outcome (``webhooks.twiml``). Signatures,
idempotency and the fallbacks are ``webhooks.replay.voice_webhook``'s; the steps Twilio
only tells us once (``keep=True``: the Dial action, status and recording callbacks) are
kept while the database is down and applied when it is back.
"""
from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app, g
from twilio.twiml.voice_response import VoiceResponse

from callflow import journey
from callflow.calls import parse_timestamp
from survey import keypad, words as caller_words
from webhooks import fallbacks, twiml
from webhooks.replay import BadParams, Prepared, arg_int, count, count_or_none, voice_webhook

bp = Blueprint("voice", __name__, url_prefix="/voice")


def _caller(params: dict) -> journey.Caller:
    return journey.Caller(params["CallSid"], params.get("AccountSid", ""), params.get("From", ""),
                          params.get("To", ""))


def _press(params: dict, args: dict) -> keypad.Keypress:
    return keypad.Keypress(arg_int(args, "leg"), arg_int(args, "q"), arg_int(args, "attempt", 1),
                           params.get("Digits"))


@bp.post("/incoming")
@voice_webhook(step=lambda p, a: "incoming", fallback=fallbacks.apology_and_queue)
def incoming(s, params, args):
    """Voice URL of the phone number: greeting, then the language choice."""
    arrival = journey.arrive(s, _caller(params), twiml.menu())
    if not arrival.open:
        return twiml.closed()
    if arrival.language:
        return twiml.ask_menu(arrival.language, 1)
    return twiml.ask_language(1)


@bp.post("/language")
@voice_webhook(step=lambda p, a: f"language:{a.get('attempt', '1')}", fallback=fallbacks.apology_and_queue)
def language(s, params, args):
    choice = journey.choose_language(s, _caller(params), params.get("Digits"), arg_int(args, "attempt", 1),
                                     twiml.menu())
    if choice.retry:
        return twiml.ask_language(choice.retry.next_attempt, choice.retry)
    return twiml.ask_menu(choice.language, 1)


@bp.post("/menu")
@voice_webhook(step=lambda p, a: f"menu:{a.get('attempt', '1')}", fallback=fallbacks.apology_and_queue)
def menu(s, params, args):
    choice = journey.choose_queue(s, _caller(params), args.get("lang"), params.get("Digits"),
                                  arg_int(args, "attempt", 1), twiml.menu())
    if choice.retry:
        return twiml.ask_menu(choice.language, choice.retry.next_attempt, choice.retry)
    if choice.gave_up:
        return twiml.to_queue(choice.entry, choice.language, choice.gave_up.reason.replace("-", "_"), "to_default")
    return twiml.to_queue(choice.entry, choice.language, "connecting")


def _entry_id(args: dict) -> int | None:
    return arg_int(args, "entry") if "entry" in args else None


@bp.post("/queue/wait")
@voice_webhook(step=None, fallback=fallbacks.keep_waiting)
def queue_wait(s, params, args):
    """Enqueue ``waitUrl``, requested again each time its TwiML ends: match an agent or
    tell the caller where they stand (twilio.com/docs/voice/twiml/enqueue#attributes-wait-url)."""
    turn = journey.wait_turn(s, _caller(params), _entry_id(args), count(params, "QueueTime"),
                             count(params, "AvgQueueTime"), twiml.menu().default_queue)
    return twiml.waiting(turn, twiml.language(args.get("lang")))


@bp.post("/queue/done")
@voice_webhook(step=lambda p, a: f"queue-done:{a.get('entry', '-')}:{p.get('QueueResult', '')}",
               fallback=fallbacks.polite_goodbye)
def queue_done(s, params, args):
    """Enqueue ``action``: the caller left the queue (``QueueResult``)."""
    if not params.get("QueueResult"):
        raise BadParams("QueueResult missing")
    lang = twiml.language(args.get("lang"))
    left = journey.leave_queue(s, _caller(params), _entry_id(args), params["QueueResult"],
                               count(params, "QueueTime"), lang, twiml.menu().default_queue)
    if left.kind == "dial":
        return twiml.dial(left.leg, left.agent, lang)
    if left.kind == "retry":
        return twiml.to_queue(left.entry, lang, "error")
    if left.kind == "give-up":
        return twiml.goodbye(lang, "error")
    return VoiceResponse()


@bp.post("/dial/done")
@voice_webhook(step=lambda p, a: f"dial-done:{a.get('leg', '-')}", fallback=fallbacks.leg_ended_offline, keep=True)
def dial_done(s, params, args):
    """Dial ``action``: the agent leg ended; who hung up decides whether the survey runs (or
    the transfer the agent asked for, ``/api/agents/<id>/transfer``)."""
    bridged = (params.get("DialBridged") or "").lower() == "true" if "DialBridged" in params else None
    report = journey.DialReport(params.get("CallStatus", ""), params.get("DialCallStatus", ""), bridged,
                                count(params, "DialCallDuration"), params.get("DialCallSid"), g.get("received_at"))
    ended = journey.end_leg(s, _caller(params), arg_int(args, "leg"), report, survey_version=twiml.survey().version,
                            wrapup_seconds=current_app.config["SETTINGS"].wrapup_seconds)
    lang = twiml.language(args.get("lang") or ended.leg.language)
    if ended.transferred:
        return twiml.to_queue(ended.entry, lang, "connecting")
    if ended.end.start_survey:
        return twiml.start_survey(ended.leg.id, lang)
    if ended.entry is not None:
        return twiml.to_queue(ended.entry, lang, "agent_unavailable")
    return VoiceResponse()


def survey_fast(params: dict, args: dict) -> Prepared | None:
    """The survey's usual step, with no read before its one write: the URL names the leg,
    question, attempt and language, and the definition in memory decides the next TwiML;
    the write checks the leg (``survey.keypad.record_keyed``). A transfer back to an agent
    (a new queue entry) or a URL without ``lang`` (the leg's language) takes the full view."""
    if not args.get("lang"):
        return None
    press = _press(params, args)
    decision = keypad.decide(twiml.survey(), press)
    if decision.transfer:
        return None
    return Prepared(twiml.survey_next_twiml(press.leg_id, press.index, decision, twiml.language(args["lang"])),
                    partial(keypad.record_keyed, survey=twiml.survey(), press=press, decision=decision),
                    refused="no survey running for this leg")


@bp.post("/survey")
@voice_webhook(step=lambda p, a: f"survey:{a.get('leg', '-')}:{a.get('q', '-')}:{a.get('attempt', '1')}",
               fallback=fallbacks.spool_answer_and_continue, prepare=survey_fast)
def survey(s, params, args):
    """Gather ``action`` of a survey question: store the answer at once, then move on."""
    press = _press(params, args)
    taken = keypad.take_answer(s, params["CallSid"], press, twiml.survey())
    lang = twiml.language(args.get("lang") or taken.language)
    if taken.decision.transfer:
        entry = journey.transfer_back(s, _caller(params), press.leg_id)
        return twiml.transfer(entry.queue, lang, entry.id)
    return twiml.survey_next_twiml(press.leg_id, press.index, taken.decision, lang)


def _words_at(args: dict) -> tuple[int, int | None, str]:
    """The leg, the question to go on with (none after the last) and the language of a Record URL."""
    raw_next = args.get("next", "")
    next_index = arg_int(args, "next") if raw_next != "" else None
    if next_index is not None and next_index >= len(twiml.survey().questions):
        raise BadParams("no such question")
    return arg_int(args, "leg"), next_index, twiml.language(args.get("lang"))


def _heard(s, params: dict, args: dict, **what) -> None:
    sid = (params.get("RecordingSid") or "").strip()
    if not sid or len(sid) > 64:
        raise BadParams("missing or malformed RecordingSid")
    leg_id, _, lang = _words_at(args)
    setting = twiml.survey().words
    try:
        caller_words.heard(s, call_sid=params["CallSid"], leg_id=leg_id,
                           transcribed=setting is None or lang in setting.transcribe,
                           what=caller_words.Heard(sid, url=params.get("RecordingUrl"),
                                                   duration=count_or_none(params, "RecordingDuration"), **what))
    except caller_words.NotThisCall as exc:
        raise BadParams(str(exc)) from None


@bp.post("/survey/words")
@voice_webhook(step=lambda p, a: f"words:{a.get('leg', '-')}:{p.get('RecordingSid', '')}",
               fallback=fallbacks.words_go_on, keep=True)
def words(s, params, args):
    """Record ``action``: the caller's words are recorded; thanks, and the survey goes on.
    (An empty recording never comes here: Twilio runs the verb after ``<Record>`` instead.)"""
    _heard(s, params, args, status="received")
    leg_id, next_index, lang = _words_at(args)
    return twiml.words_heard(leg_id, next_index, lang)


@bp.post("/recording/status")
@voice_webhook(step=lambda p, a: f"recording:{p.get('RecordingSid', '')}:{p.get('RecordingStatus', '')}",
               fallback=fallbacks.nothing, keep=True)
def recording_status(s, params, args):
    """``recordingStatusCallback`` of the caller's words: the file is ready (or absent, failed)."""
    _heard(s, params, args, status=params.get("RecordingStatus") or None)
    return VoiceResponse()


@bp.post("/recording/transcription")
@voice_webhook(step=lambda p, a: f"transcription:{p.get('RecordingSid', '')}:{p.get('TranscriptionStatus', '')}",
               fallback=fallbacks.nothing, keep=True)
def transcription(s, params, args):
    """``transcribeCallback``: the text of the caller's words, or that Twilio could not make one."""
    if not params.get("TranscriptionStatus"):
        raise BadParams("TranscriptionStatus missing")
    _heard(s, params, args, transcription_status=params["TranscriptionStatus"], text=params.get("TranscriptionText"))
    return VoiceResponse()


@bp.post("/status")
@voice_webhook(step=lambda p, a: f"status:{p.get('SequenceNumber', '-')}:{p.get('CallStatus', '')}",
               fallback=fallbacks.nothing, keep=True)
def status(s, params, args):
    """Status callback: final status, ``CallDuration`` and ``Timestamp``; stale ones are ignored."""
    journey.report_status(s, _caller(params), params.get("CallStatus", ""), count_or_none(params, "SequenceNumber"),
                          count_or_none(params, "CallDuration"), parse_timestamp(params.get("Timestamp")))
    return VoiceResponse()
