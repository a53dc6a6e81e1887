"""Why a task change was refused: a message key and its parameters, which the HTTP layers word
in the reader's language; ``str()`` is the English sentence (the CLI, the JSON API, logs)."""
from __future__ import annotations

ENGLISH = {
    "no_task": "There is no call-back task {value}.",
    "bad_state": "The state must be one of {choices}.",
    "bad_transition": "A task that is {old} cannot become {new}; from {old} it may become {choices}.",
    "note_long": "An outcome note can have at most {n} characters.",
    "not_supervisor": "{value} is not an active supervisor or admin.",
    "bad_team": "A team name needs 1 to {n} characters.",
    "task_final": "Task {id} is {state}: a finished task is not called back.",
    "no_ring_to": "{value} has no phone number or Twilio Client identity to ring: set one on the profile page.",
    "ring_to_busy": "{value} is already on a call-back (task {id}): one call at a time.",
    "no_caller_number": "Task {id}'s caller withheld their number: there is nothing to dial.",
}


class CallbackError(ValueError):
    """A task change that cannot be made; the message says what to fix."""

    def __init__(self, key: str, /, **params):
        self.key, self.params = key, params
        super().__init__(ENGLISH[key].format(**params))
