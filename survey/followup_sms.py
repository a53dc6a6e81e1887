"""Reading a follow-up SMS reply: an answer, an opt-out, or something to ask again.

Forgiving on purpose: people type " 1 ", "1.", "5!", "yes", "Да" or "4 - good". A reply
counts as an answer when it holds exactly one number that is a valid choice, or (for a
yes/no question) a yes or no word. Opt-out words are Twilio's default English keywords
(which Twilio also enforces itself on long codes) plus the Russian ones it does not know.
"""
from __future__ import annotations

import re
import unicodedata

from survey.definition import Question

# twilio.com/docs/messaging/tutorials/advanced-opt-out: Twilio's default opt-out keywords.
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
                        # Not Twilio defaults: the app honours them itself.
                        "стоп", "отписаться", "отписка", "отпишите", "хватит", "стоп всё", "стоп все"})
YES_WORDS = frozenset({"yes", "y", "yeah", "yep", "ok", "да", "ага", "угу", "конечно"})
NO_WORDS = frozenset({"no", "n", "nope", "нет", "неа"})
MAX_BODY = 1600   # Twilio's limit for a message body; anything longer is not a reply to us


def normalise(body: str) -> str:
    text = unicodedata.normalize("NFKC", body or "").replace("\x00", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def is_stop(body: str, opt_out_type: str = "") -> bool:
    """An opt-out: Twilio matched one (``OptOutType=STOP``), or the whole reply is an opt-out word."""
    return opt_out_type.upper() == "STOP" or normalise(body) in STOP_WORDS


def parse_answer(body: str, question: Question) -> int | None:
    """The choice ``body`` gives for ``question``, or None when it gives none (or several)."""
    if len(body or "") > MAX_BODY:
        return None
    text = normalise(body)
    numbers = re.findall(r"\d+", text)
    if len(numbers) == 1:
        value = int(numbers[0]) if len(numbers[0]) <= 2 else None
        return value if value in question.valid else None
    if numbers:
        return None
    if set(question.valid) == {1, 2}:
        words = set(text.split())
        if words and words <= YES_WORDS:
            return 1
        if words and words <= NO_WORDS:
            return 2
    return None
