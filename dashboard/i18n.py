"""The reader's language, and every interface string through gettext (Flask-Babel).

The English text is the message id; the Russian catalog is
``dashboard/translations/ru/LC_MESSAGES/messages.po`` (compiled to ``.mo`` at install, see
docs/translating.md), so translators work with their usual tools. Pages call ``_()`` /
``ngettext()`` in templates and ``gettext()`` in Python. A stored code (a state, a role, a
tier, a flag kind) is shown through ``label(kind, code)``: the table below marks each code's
words for extraction with ``NP_`` (its kind is the context) and translates them when shown.

The language is the session's choice (the switch in the header), else the user's saved
locale, else the browser's preference.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, request, session
from flask_babel import Babel, gettext, pgettext
from flask_login import current_user

from accounts.errors import shown  # noqa: F401  (how a message quotes what the user sent)

LANGUAGES = ("en", "ru")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
babel = Babel()


def N_(msgid: str) -> str:
    """Marks ``msgid`` for extraction where it is defined; it is translated where it is shown."""
    return msgid


def NP_(context: str, msgid: str) -> str:
    """``N_`` with a context (the label kind): "open" is one word for a flag, another for a period."""
    return msgid


class InputError(ValueError):
    """Input a page refuses, worded as a message id (marked with ``N_``) and its parameters:
    ``say()`` gives the message in the reader's language, ``str()`` in English (for the CLI
    and the log)."""

    def __init__(self, msgid: str, /, **params):
        self.msgid, self.params = msgid, params
        super().__init__(msgid % params if params else msgid)

    def say(self) -> str:
        return gettext(self.msgid, **self.params)


def current_language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _centre_timezone() -> str:
    return current_app.config["MENU"].hours.tz.key


# Stored codes and the words they are shown as. A code missing here is shown as it is stored.
LABELS: dict[str, dict[str, str]] = {
    "role": {"supervisor": NP_("role", "supervisor"), "hr": NP_("role", "HR"), "admin": NP_("role", "admin"),
             "agent": NP_("role", "agent")},
    "dispute_state": {"open": NP_("dispute_state", "waiting for a supervisor"),
                      "accepted": NP_("dispute_state", "accepted"), "rejected": NP_("dispute_state", "rejected")},
    "flag_state": {"open": NP_("flag_state", "open"), "confirmed": NP_("flag_state", "confirmed"),
                   "dismissed": NP_("flag_state", "dismissed")},
    "flag_kind": {"truncated": NP_("flag_kind", "cut short"), "cap-cut": NP_("flag_kind", "cut at the cap"),
                  "repeat-call": NP_("flag_kind", "repeat call"),
                  "cap-cliff": NP_("flag_kind", "calls piled up before the cap"),
                  "survey-dodging": NP_("flag_kind", "survey dodging"),
                  "early-hangup": NP_("flag_kind", "early hang-ups"), "repeat-calls": NP_("flag_kind", "repeat calls"),
                  "transfer-out": NP_("flag_kind", "transfers out")},
    "ivr": {"language": NP_("ivr", "IVR: language"), "menu": NP_("ivr", "IVR: menu")},
    "outcome": {"handled": NP_("outcome", "handled by an agent"), "unanswered": NP_("outcome", "queued, not answered"),
                "ivr": NP_("outcome", "ended before a queue")},
    "ended": {"agent": NP_("ended", "agent"), "caller": NP_("ended", "caller"), "unknown": NP_("ended", "—")},
    "call_status": {"queued": NP_("call_status", "queued"), "initiated": NP_("call_status", "initiated"),
                    "ringing": NP_("call_status", "ringing"), "in-progress": NP_("call_status", "in progress"),
                    "completed": NP_("call_status", "completed"), "busy": NP_("call_status", "busy"),
                    "failed": NP_("call_status", "failed"), "no-answer": NP_("call_status", "no answer"),
                    "canceled": NP_("call_status", "canceled"), "unknown": NP_("call_status", "unknown")},
    "dial_status": {"completed": NP_("dial_status", "completed"), "answered": NP_("dial_status", "answered"),
                    "busy": NP_("dial_status", "busy"), "failed": NP_("dial_status", "failed"),
                    "no-answer": NP_("dial_status", "no answer"), "canceled": NP_("dial_status", "canceled"),
                    "unknown": NP_("dial_status", "unknown")},
    "visit_state": {"waiting": NP_("visit_state", "waiting"), "reserved": NP_("visit_state", "agent reserved"),
                    "left": NP_("visit_state", "left the queue"),
                    "abandoned": NP_("visit_state", "hung up while waiting"), "failed": NP_("visit_state", "failed")},
    "visit_reason": {"menu": NP_("visit_reason", "menu choice"), "default": NP_("visit_reason", "default queue"),
                     "fallback": NP_("visit_reason", "fallback"), "retry": NP_("visit_reason", "retry"),
                     "requeue": NP_("visit_reason", "agent did not answer"),
                     "transfer-back": NP_("visit_reason", "caller asked for an agent again")},
    "survey_state": {"not-offered": NP_("survey_state", "not offered"), "offered": NP_("survey_state", "offered"),
                     "finished": NP_("survey_state", "finished"),
                     "follow-up": NP_("survey_state", "follow-up sent")},
    "answer_status": {"answered": NP_("answer_status", "answered"), "no-input": NP_("answer_status", "no answer"),
                      "invalid": NP_("answer_status", "invalid key")},
    "question": {"adequate": NP_("question", "Adequate"), "satisfaction": NP_("question", "Satisfaction"),
                 "anything_else": NP_("question", "Anything else")},
    "transcription": {"completed": NP_("transcription", "transcribed"),
                      "failed": NP_("transcription", "transcription failed"),
                      "pending": NP_("transcription", "transcription pending"),
                      "missing": NP_("transcription", "transcription failed (none arrived)"),
                      "not-requested": NP_("transcription", "not transcribed (Twilio transcribes English only)"),
                      "deleted": NP_("transcription", "deleted after the retention period")},
    "period_state": {"open": NP_("period_state", "open"), "locked": NP_("period_state", "locked")},
    "job_state": {"pending": NP_("job_state", "pending"), "queued": NP_("job_state", "queued"),
                  "running": NP_("job_state", "running"), "done": NP_("job_state", "done"),
                  "failed": NP_("job_state", "failed")},
    "presence": {"available": NP_("presence", "available"), "busy": NP_("presence", "busy"),
                 "wrap-up": NP_("presence", "wrap-up"), "offline": NP_("presence", "offline")},
    "tier": {"none": NP_("tier", "no tier"), "bronze": NP_("tier", "bronze"), "silver": NP_("tier", "silver"),
             "gold": NP_("tier", "gold"), "platinum": NP_("tier", "platinum"),
             "insufficient-data": NP_("tier", "none (insufficient data)")},
    "task_state": {"todo": NP_("task_state", "to do"), "any": NP_("task_state", "any state"),
                   "open": NP_("task_state", "open"), "called": NP_("task_state", "called"),
                   "resolved": NP_("task_state", "resolved"), "not-reached": NP_("task_state", "not reached"),
                   "declined": NP_("task_state", "declined"),
                   "followed-up": NP_("task_state", "polite follow-up instead")},
    "task_reason": {"adequacy-no": NP_("task_reason", "question not answered"),
                    "low-rating": NP_("task_reason", "rated 1–2"),
                    "abandoned-after-transfer": NP_("task_reason", "hung up waiting for an agent again")},
    "attempt_state": {"queued": NP_("attempt_state", "queued"), "sending": NP_("attempt_state", "calling Twilio"),
                      "ringing": NP_("attempt_state", "ringing you"),
                      "connecting": NP_("attempt_state", "ringing the caller"),
                      "connected": NP_("attempt_state", "talked"), "not-reached": NP_("attempt_state", "not reached"),
                      "supervisor-missed": NP_("attempt_state", "you did not answer"),
                      "failed": NP_("attempt_state", "failed")},
    "attempt_outcome": {"completed": NP_("attempt_outcome", "completed"),
                        "answered": NP_("attempt_outcome", "answered"), "busy": NP_("attempt_outcome", "busy"),
                        "no-answer": NP_("attempt_outcome", "no answer"), "failed": NP_("attempt_outcome", "failed"),
                        "canceled": NP_("attempt_outcome", "canceled"),
                        "supervisor-hung-up": NP_("attempt_outcome", "you hung up first"),
                        "not-dialled": NP_("attempt_outcome", "the caller was not dialled"),
                        "task-closed": NP_("attempt_outcome", "the task was closed"),
                        "gave-up": NP_("attempt_outcome", "Twilio did not answer; gave up"),
                        "not-configured": NP_("attempt_outcome", "Twilio is not configured"),
                        "no-report": NP_("attempt_outcome", "Twilio never reported how it ended")},
    "task_scope": {"mine": NP_("task_scope", "Mine"), "team": NP_("task_scope", "My teams"),
                   "all": NP_("task_scope", "All")},
    "metric": {"adequacy": NP_("metric", "Adequacy"), "csat": NP_("metric", "CSAT"), "fcr": NP_("metric", "FCR"),
               "handled": NP_("metric", "Handled"), "surveys_offered": NP_("metric", "Surveys offered"),
               "surveys_completed": NP_("metric", "Surveys completed"), "mean_rating": NP_("metric", "Mean rating"),
               "aht": NP_("metric", "AHT")},
    "language": {"en": NP_("language", "English"), "ru": NP_("language", "Russian")},
    "audit_action": {"user.login": NP_("audit_action", "logged in"),
                     "user.login_failed": NP_("audit_action", "failed login"),
                     "user.create": NP_("audit_action", "user created"),
                     "user.update": NP_("audit_action", "user changed"),
                     "token.create": NP_("audit_action", "API token created"),
                     "token.revoke": NP_("audit_action", "API token revoked"),
                     "agent.create": NP_("audit_action", "agent created"),
                     "agent.update": NP_("audit_action", "agent changed"),
                     "period.lock": NP_("audit_action", "period locked"),
                     "export.bonus": NP_("audit_action", "bonus file exported"),
                     "export.download": NP_("audit_action", "export downloaded"),
                     "callback.call": NP_("audit_action", "call-back call started"),
                     "callback.call_end": NP_("audit_action", "call-back call ended"),
                     "flag.confirm": NP_("audit_action", "finding confirmed"),
                     "flag.dismiss": NP_("audit_action", "finding dismissed"),
                     "callback.open": NP_("audit_action", "call-back task opened"),
                     "callback.capacity": NP_("audit_action", "polite follow-up instead of a call-back"),
                     "callback.state": NP_("audit_action", "call-back task moved"),
                     "callback.reassign": NP_("audit_action", "call-back task reassigned"),
                     "callback.team_supervisor": NP_("audit_action", "team's supervisor named"),
                     "callback.user_team": NP_("audit_action", "supervisor's team set")},
    "audit_key": {"role": NP_("audit_key", "role"), "active": NP_("audit_key", "active"),
                  "locale": NP_("audit_key", "language"), "password": NP_("audit_key", "password"),
                  "ring_to": NP_("audit_key", "rings at"), "name": NP_("audit_key", "name"),
                  "team": NP_("audit_key", "team"), "skills": NP_("audit_key", "skills"),
                  "presence": NP_("audit_key", "presence"), "address": NP_("audit_key", "from address"),
                  "checksum": NP_("audit_key", "checksum"), "rows": NP_("audit_key", "rows"),
                  "adjustments": NP_("audit_key", "adjustments"),
                  "adjusted_periods": NP_("audit_key", "earlier periods adjusted"),
                  "reason": NP_("audit_key", "reason"), "format": NP_("audit_key", "format"),
                  "filename": NP_("audit_key", "file"), "file": NP_("audit_key", "file"),
                  "locked": NP_("audit_key", "locked"), "snapshot_checksum": NP_("audit_key", "snapshot checksum"),
                  "export_id": NP_("audit_key", "export"), "kind": NP_("audit_key", "finding"),
                  "agent_id": NP_("audit_key", "agent"), "call_sid": NP_("audit_key", "call"),
                  "previous_state": NP_("audit_key", "was"), "state": NP_("audit_key", "now"),
                  "comment": NP_("audit_key", "comment"), "rule_version": NP_("audit_key", "rules version"),
                  "owner_id": NP_("audit_key", "owner"), "due_at": NP_("audit_key", "due"),
                  "rank": NP_("audit_key", "rank"), "old": NP_("audit_key", "was"), "new": NP_("audit_key", "now"),
                  "note": NP_("audit_key", "note"), "attempt": NP_("audit_key", "call attempt"),
                  "user": NP_("audit_key", "supervisor"), "outcome": NP_("audit_key", "Twilio's status"),
                  "talk_seconds": NP_("audit_key", "talk seconds"), "period": NP_("audit_key", "period")},
}

# What a survey key means, per question (the keypad code as the caller pressed it).
ANSWERS: dict[str, dict[int, str]] = {
    "adequate": {1: N_("Yes"), 2: N_("No")},
    "anything_else": {1: N_("Yes, back to an agent"), 2: N_("No, finished")},
}


def label(kind: str, code) -> str:
    """A stored code in the reader's words: ``label("flag_state", "open")``; "—" for none."""
    if code is None or code == "":
        return "—"
    msgid = LABELS[kind].get(code)
    return pgettext(kind, msgid) if msgid else str(code)


def answer(question: str, value) -> str:
    """A survey answer as its meaning ("No" for adequate = 2); a rating stays its number."""
    msgid = ANSWERS.get(question, {}).get(value)
    return gettext(msgid) if msgid else str(value)


# Why the domain refused something (``AccountError``, ``PeriodError``, ``ReviewError``: a key and
# its parameters), in the reader's language.
REFUSALS: dict[str, str] = {
    "bad_email": N_("“%(value)s” is not an e-mail address."),
    "bad_role": N_("The role must be one of %(choices)s."),
    "bad_locale": N_("The language must be one of %(choices)s."),
    "user_exists": N_("A user %(value)s already exists."),
    "user_name_long": N_("A name can have at most %(n)s characters."),
    "password_short": N_("The password must have at least %(n)s characters."),
    "token_name": N_("A token needs a name of 1 to %(n)s characters."),
    "bad_decision": N_("Choose confirm or dismiss."),
    "actor_required": N_("Who reviews must be known."),
    "comment_required": N_("A comment is required."),
    "comment_long": N_("A comment can have at most %(n)s characters."),
    "no_flag": N_("There is no flag %(id)s."),
    "bad_period": N_("“%(value)s” is not a pay period."),
    "bad_format": N_("The format must be one of %(choices)s."),
    "already_locked": N_("Period %(key)s is already locked."),
    "reason_required": N_("Say why the period is locked now: a reason is required."),
    "reason_long": N_("A reason can have at most %(n)s characters."),
    "bad_ring_to": N_("“%(value)s” is neither a phone number in E.164 form (+15551234567) nor client:<identity>."),
    "no_task": N_("There is no call-back task %(value)s."),
    "not_supervisor": N_("%(value)s is not an active supervisor or admin."),
    "task_final": N_("Task %(id)s is finished: a finished task is not called back."),
    "no_ring_to": N_("%(value)s has no phone number or Twilio Client identity to ring: set one on the profile page."),
    "ring_to_busy": N_("%(value)s is already on a call-back (task %(id)s): one call at a time."),
    "no_caller_number": N_("Task %(id)s's caller withheld their number: there is nothing to dial."),
    "bad_state": N_("The state must be one of %(choices)s."),
    "bad_transition": N_("A task that is %(old)s cannot become %(new)s; from %(old)s it may become %(choices)s."),
    "note_long": N_("An outcome note can have at most %(n)s characters."),
    "bad_team": N_("A team name needs 1 to %(n)s characters."),
    "agent_required": N_("An agent user needs the agent they are; other roles have none."),
    "no_agent": N_("There is no agent “%(value)s”."),
    "agent_taken": N_("Agent %(value)s already has a user (%(email)s)."),
    "dispute_reason": N_("Say why you dispute it: a reason of 1 to %(n)s characters."),
    "dispute_not_yours": N_("There is no finding %(id)s on your calls."),
    "dispute_window": N_("Findings can be disputed for %(days)s days; this one is older."),
    "dispute_locked": N_("Pay period %(key)s is locked: its findings can no longer be disputed."),
    "dispute_exists": N_("This finding is already disputed (dispute %(id)s)."),
    "no_dispute": N_("There is no dispute %(id)s."),
    "dispute_decided": N_("Dispute %(id)s has been answered already."),
    "bad_dispute_decision": N_("Choose accept or reject."),
    "open_disputes": N_("Period %(key)s has %(n)s open disputes: decide them, or lock anyway with a reason."),
}
WORDED = {"bad_state": {"choices": "task_state"},
          "bad_transition": {"old": "task_state", "new": "task_state", "choices": "task_state"}}
"""Parameters that are stored codes, worded with ``label`` (a list of them comma-separated)."""


def refusal(exc) -> str:
    """A domain error's reason in the reader's language (its English text if it has no words here)."""
    key = getattr(exc, "key", None)
    msgid = REFUSALS.get(key)
    if not msgid:
        return str(exc)
    params = dict(exc.params)
    for name, kind in WORDED.get(key, {}).items():
        params[name] = ", ".join(label(kind, code.strip()) for code in str(params[name]).split(","))
    return gettext(msgid, **params)




def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogs beside this module, the reader's language and the
    centre's time zone; ``label`` and ``answer`` for templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists():   # committed, and checked against the .po by tests/deploy/test_catalogs.py
            logging.getLogger(__name__).warning("%s is missing: run `make translations` (pybabel compile); "
                                                "pages show English until then", mo)
    babel.init_app(app, locale_selector=current_language, timezone_selector=_centre_timezone)
    app.jinja_env.globals.update(label=label, answer=answer, current_language=current_language)
