"""TwiML for every step of the caller's journey, built with the twilio package.

Every URL here is relative to the request Twilio made and carries the caller's language
(``lang``), so that even a fallback answer speaks it without touching the database.
"""
from __future__ import annotations

from flask import current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from callflow.journey import Turn
from ivr.choices import Retry
from ivr.menu import Menu
from store.agents import Agent
from store.calls import Leg, QueueEntry
from survey.definition import Survey
from survey.flow import SurveyStep


def menu() -> Menu:
    return current_app.config["MENU"]


def survey() -> Survey:
    return current_app.config["SURVEY"]


def language(key: str | None) -> str:
    """The caller's language key: ``key`` if the menu has it, else the default."""
    return menu().language(key).key


def speak(node, lang: str, *texts: str) -> None:
    voice = menu().language(lang)
    for text in texts:
        node.say(text, voice=voice.voice, language=voice.say_language)


def _gather(resp: VoiceResponse, action: str, timeout: int):
    return resp.gather(num_digits=1, action=action, method="POST", timeout=timeout, action_on_empty_result=True)


def _prompt(reason: str) -> str:
    return reason.replace("-", "_")   # "no-input" → the "no_input" prompt


# --- the IVR ----------------------------------------------------------------------------

def ask_language(attempt: int, retry: Retry | None = None) -> VoiceResponse:
    m, resp = menu(), VoiceResponse()
    if retry is not None:
        for lang in m.languages:
            speak(resp, lang, m.say(lang, _prompt(retry.reason)))
    gather = _gather(resp, url_for("voice.language", attempt=attempt), m.gather_timeout)
    for lang in m.languages:
        texts = [m.say(lang, "choose_language")]
        if attempt == 1:
            texts.insert(0, m.say(lang, "welcome"))
        speak(gather, lang, *texts)
    return resp


def ask_menu(lang: str, attempt: int, retry: Retry | None = None) -> VoiceResponse:
    m, resp = menu(), VoiceResponse()
    if retry is not None:
        speak(resp, lang, m.say(lang, _prompt(retry.reason)))
    gather = _gather(resp, url_for("voice.menu", attempt=attempt, lang=lang), m.gather_timeout)
    speak(gather, lang, *m.menu_lines(lang))
    return resp


def closed() -> VoiceResponse:
    resp = VoiceResponse()
    for lang in menu().languages:
        speak(resp, lang, menu().say(lang, "closed"))
    resp.hangup()
    return resp


# --- the queue --------------------------------------------------------------------------

def enqueue(resp: VoiceResponse, queue: str, lang: str, entry_id: int | None = None) -> VoiceResponse:
    ids = {"entry": entry_id} if entry_id is not None else {}
    resp.enqueue(queue, wait_url=url_for("voice.queue_wait", **ids, lang=lang), wait_url_method="POST",
                 action=url_for("voice.queue_done", **ids, lang=lang), method="POST")
    return resp


def to_queue(entry: QueueEntry, lang: str, *say: str) -> VoiceResponse:
    """Say ``say`` (prompt keys), then wait in ``entry``'s queue."""
    resp = VoiceResponse()
    speak(resp, lang, *(menu().say(lang, key) for key in say))
    return enqueue(resp, entry.queue, lang, entry.id)


def waiting(turn: Turn, lang: str) -> VoiceResponse:
    """One round of the wait loop: leave for the agent, or (maybe) the position, then a pause."""
    resp = VoiceResponse()
    if turn.leave:
        resp.leave()
        return resp
    if turn.position is not None:
        m, minutes = menu(), -(-turn.expected_seconds // 60)
        speak(resp, lang, m.say(lang, "position", position=turn.position),
              m.say(lang, "expected_wait", minutes=minutes) if turn.expected_seconds >= 60
              else m.say(lang, "expected_wait_short"))
    resp.pause(length=5)
    return resp


def dial(leg: Leg, agent: Agent, lang: str) -> VoiceResponse:
    resp = VoiceResponse()
    d = resp.dial(action=url_for("voice.dial_done", leg=leg.id, lang=lang), method="POST",
                  timeout=current_app.config["SETTINGS"].dial_timeout)
    if agent.phone:
        d.number(agent.phone)
    else:
        d.client(agent.id)
    return resp


def goodbye(lang: str, *say: str) -> VoiceResponse:
    resp = VoiceResponse()
    speak(resp, lang, *(menu().say(lang, key) for key in say))
    resp.hangup()
    return resp


# --- the survey -------------------------------------------------------------------------

def ask_question(resp: VoiceResponse, leg_id: int | str, index: int, attempt: int, lang: str) -> VoiceResponse:
    s = survey()
    gather = _gather(resp, url_for("voice.survey", leg=leg_id, q=index, attempt=attempt, lang=lang),
                     s.gather_timeout)
    speak(gather, lang, s.question(index).text[lang])
    return resp


def start_survey(leg_id: int, lang: str) -> VoiceResponse:
    resp = VoiceResponse()
    speak(resp, lang, survey().say(lang, "intro"))
    return ask_question(resp, leg_id, 0, 1, lang)


def survey_next(resp: VoiceResponse, leg_id: int | str, index: int, decision: SurveyStep, lang: str) -> VoiceResponse:
    """After an answer that does not send the caller back to an agent: the re-prompt, the
    next question, or thanks and goodbye."""
    s = survey()
    if decision.reprompt:
        speak(resp, lang, s.say(lang, _prompt(decision.reprompt)))
        return ask_question(resp, leg_id, index, decision.next_attempt, lang)
    if decision.words:
        ask_words(resp, leg_id, decision.next_index, lang)
    return survey_goes_on(resp, leg_id, decision.next_index, lang)


def survey_goes_on(resp: VoiceResponse, leg_id: int | str, next_index: int | None, lang: str) -> VoiceResponse:
    """The next question, or thanks and goodbye after the last."""
    if next_index is not None:
        return ask_question(resp, leg_id, next_index, 1, lang)
    speak(resp, lang, survey().say(lang, "thanks"))
    resp.hangup()
    return resp


def ask_words(resp: VoiceResponse, leg_id: int | str, next_index: int | None, lang: str) -> VoiceResponse:
    """The caller's own words: the prompt, a beep and a short ``<Record>``
    (twilio.com/docs/voice/twiml/record). Its ``action`` goes on with the survey; when the
    caller said nothing Twilio skips the action and runs the next verb, which the caller of
    this function appends (``survey_goes_on``)."""
    words = survey().words
    speak(resp, lang, words.prompt[lang])
    transcribe = lang in words.transcribe
    resp.record(action=url_for("voice.words", leg=leg_id, next="" if next_index is None else next_index, lang=lang),
                method="POST", max_length=words.max_length, timeout=words.timeout,
                finish_on_key=words.finish_on_key, play_beep=True, trim="trim-silence",
                recording_status_callback=url_for("voice.recording_status", leg=leg_id, lang=lang),
                recording_status_callback_method="POST", recording_status_callback_event="completed absent",
                transcribe=transcribe,
                transcribe_callback=url_for("voice.transcription", leg=leg_id, lang=lang) if transcribe else None)
    return resp


def words_heard(leg_id: int, next_index: int | None, lang: str) -> VoiceResponse:
    """After the caller's words: thanks, then the survey goes on."""
    resp, words = VoiceResponse(), survey().words
    if words is not None:
        speak(resp, lang, words.thanks[lang])
    return survey_goes_on(resp, leg_id, next_index, lang)


_LEG = "LEGxID"   # stands for the leg id in a cached rendering; never produced by the survey's texts or URLs
_TWIML_CACHE_MAX = 1024


def survey_next_twiml(leg_id: int, index: int, decision: SurveyStep, lang: str) -> str:
    """``survey_next`` as text, rendered by the twilio package once per (question, attempt,
    outcome, language) and per URL root, with only the leg id put in per request."""
    cache = current_app.extensions.setdefault("survey_twiml", {})
    key = (id(survey()), request.script_root, lang, index, decision.reprompt, decision.next_attempt,
           decision.next_index, decision.words)
    text = cache.get(key)
    if text is None:
        if len(cache) >= _TWIML_CACHE_MAX:
            cache.clear()
        text = cache[key] = str(survey_next(VoiceResponse(), _LEG, index, decision, lang))
    return text.replace(_LEG, str(leg_id))


def transfer(queue: str, lang: str, entry_id: int | None = None) -> VoiceResponse:
    """The caller asked to speak to an agent again."""
    resp = VoiceResponse()
    speak(resp, lang, survey().say(lang, "transfer"))
    return enqueue(resp, queue, lang, entry_id)


def survey_thanks(lang: str) -> VoiceResponse:
    resp = VoiceResponse()
    speak(resp, lang, survey().say(lang, "thanks"))
    resp.hangup()
    return resp
