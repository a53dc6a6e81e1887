"""Why an account change was refused: a message key and its parameters, which the HTTP layers
word in the reader's language; ``str()`` is the English sentence (the CLI, the JSON API, logs)."""
from __future__ import annotations

ENGLISH = {
    "bad_email": "“{value}” is not an e-mail address.",
    "bad_role": "The role must be one of {choices}.",
    "bad_locale": "The language must be one of {choices}.",
    "user_exists": "A user {value} already exists.",
    "user_name_long": "A name can have at most {n} characters.",
    "password_short": "The password must have at least {n} characters.",
    "token_name": "A token needs a name of 1 to {n} characters.",
    "agent_required": "An agent user needs the agent they are; other roles have none.",
    "no_agent": "There is no agent “{value}”.",
    "agent_taken": "Agent {value} already has a user ({email}).",
    "bad_ring_to": "“{value}” is neither a phone number in E.164 form (+15551234567) nor client:<identity>.",
}


class AccountError(ValueError):
    """Input that cannot make a valid user or token; the message says what to fix."""

    def __init__(self, key: str, /, **params):
        self.key, self.params = key, params
        super().__init__(ENGLISH[key].format(**params))


def shown(value: str, limit: int = 40) -> str:
    """A value the user sent, as an error message quotes it: shortened, invisible characters escaped."""
    cut = value if len(value) <= limit else value[:limit] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
