"""The survey webhook's fallback: when the database cannot take an answer, spool it and go on.

The caller keeps hearing the survey (the next question, a re-prompt, the transfer back or
the goodbye): everything needed is in the URL (leg, question, attempt, language) and the
survey definition in memory. The answer goes to the local spool (``survey.spool``) and
reaches ``survey_answers`` once the database is back.
"""
from __future__ import annotations

from flask import current_app, url_for
from twilio.twiml.voice_response import VoiceResponse

from survey.flow import step as survey_step
from survey.spool import AnswerSpool
from webhooks.replay import database_unavailable


def answer_spool() -> AnswerSpool:
    """This app's spool, in ``Settings.answer_spool_dir`` (``ANSWER_SPOOL_DIR``)."""
    app = current_app
    if "answer_spool" not in app.extensions:
        app.extensions["answer_spool"] = AnswerSpool(app.config["SETTINGS"].answer_spool_dir)
    return app.extensions["answer_spool"]


def spool_answer_and_continue(params: dict, args: dict) -> VoiceResponse:
    from webhooks import voice  # the views module imports this one: import late, no cycle

    if not database_unavailable():  # bad parameters or a bug: nothing trustworthy to keep
        return voice.survey_thanks(params, args)
    lang = voice._lang(args)
    survey = voice._survey()
    call_sid = (params.get("CallSid") or "").strip()
    try:
        leg_id, index = voice._arg_int(args, "leg"), voice._arg_int(args, "q")
        attempt = voice._arg_int(args, "attempt", 1)
    except voice.BadParams:
        return voice.survey_thanks(params, args)
    if not call_sid or index >= len(survey.questions):
        return voice.survey_thanks(params, args)
    decision = survey_step(survey, index, params.get("Digits"), attempt)
    if decision.record:
        answer_spool().append({"leg_id": leg_id, "call_sid": call_sid, "survey_version": survey.version,
                               "question": decision.record.question, "value": decision.record.value,
                               "status": decision.record.status,
                               "finished": decision.finished or decision.transfer})
    if decision.transfer:  # the leg's queue is in the database: the default queue takes the caller
        resp = VoiceResponse()
        voice.speak(resp, lang, survey.say(lang, "transfer"))
        resp.enqueue(voice._menu().default_queue, wait_url=url_for("voice.queue_wait", lang=lang),
                     wait_url_method="POST", action=url_for("voice.queue_done", lang=lang), method="POST")
        return resp
    return voice.survey_next_twiml(leg_id, index, decision, lang)
