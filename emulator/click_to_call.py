"""What happens to a supervisor's "call back": the supervisor's phone, then the caller's.

For every Call the app created on the REST stand-in (``emulator.twilio_rest``) whose ``Url``
is a click-to-call answer URL (``/callback/voice/answer``), ``ClickToCallPlayer.play`` does
what Twilio and the two people would, over the app's real webhooks (signed; status callbacks
duplicated and reordered at the scenario's ``[faults]`` rates):

- the supervisor (``[click_to_call] supervisor_answer``) picks up: Twilio requests the
  call's ``url`` and runs its ``<Dial>`` (twilio.com/docs/voice/twiml/dial): the caller's
  phone shows the Dial's ``callerId``; the caller answers and talks, declines (Twilio
  reports ``busy``) or lets it ring out (``no-answer``). Then the Dial ``action``
  (``DialCallStatus``, ``DialCallDuration``), the caller leg's status callback (the
  ``<Number statusCallback>``: ``CallStatus``, ``CallDuration``, ``ParentCallSid``) and the
  supervisor leg's final status callback (``CallDuration``);
- or the supervisor's phone rings out: only the final status callback (``no-answer``).

``CallbackTruth`` records what each person did and what the app's attempt must say.
"""
from __future__ import annotations

import datetime as dt
import random
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from .scenario import Scenario
from .transport import Target
from .twilio_rest import Created, FakeTwilioRest
from .webhooks import WebhookClient, idempotency_token

ANSWER_PATH = "/callback/voice/answer"
EXPECTED = {("missed", None): "supervisor-missed", ("answered", "answered"): "connected",
            ("answered", "missed"): "not-reached", ("answered", "declined"): "not-reached"}


@dataclass
class CallbackTruth:
    sid: str
    attempt: str                 # the ``a`` of the answer URL
    supervisor: str              # answered | missed
    caller: str | None           # answered | missed | declined; None: never dialled
    dialled: str | None          # the number the app's <Dial> rang
    caller_id: str | None        # what the caller's phone showed (the Dial's callerId)
    talk_s: int = 0

    @property
    def expected_state(self) -> str | None:
        """The attempt state the app must end with (None: the app did not dial: unexpected)."""
        return EXPECTED.get((self.supervisor, self.caller))

    def to_dict(self) -> dict:
        return {**asdict(self), "expected_state": self.expected_state}


class ClickToCallPlayer:
    def __init__(self, scenario: Scenario, rest: FakeTwilioRest, target: Target,
                 on_time: Callable[[dt.datetime], None] | None = None):
        self.sc, self.rest, self.target, self.on_time = scenario, rest, target, on_time or (lambda t: None)
        self.webhooks = WebhookClient(target.client, scenario.auth_token, scenario.faults, 15.0, _NoLatency())
        self.truth: list[CallbackTruth] = []

    def play(self, now: dt.datetime) -> list[CallbackTruth]:
        """Play every click-to-call not played yet, starting at simulated time ``now``."""
        done = []
        for made in self.rest.sent("call"):
            if made.played or urlsplit(made.params.get("Url", "")).path != ANSWER_PATH:
                continue
            made.played = True
            truth = self._call(made, now, random.Random(f"{self.sc.seed}:c2c:{made.sid}"))
            self.truth.append(truth)
            done.append(truth)
        return done

    def _call(self, made: Created, now: dt.datetime, rng: random.Random) -> CallbackTruth:
        cfg, faults = self.sc.click_to_call, self.sc.faults
        attempt = parse_qs(urlsplit(made.params["Url"]).query).get("a", ["?"])[0]
        base = {"CallSid": made.sid, "AccountSid": self.sc.account_sid, "From": made.from_, "To": made.to,
                "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        truth = CallbackTruth(made.sid, attempt, "answered" if rng.random() < cfg.supervisor_answer else "missed",
                              None, None, None)
        at = now + dt.timedelta(seconds=rng.uniform(3, 20))
        callbacks: list[tuple[str, dict]] = []     # (url, params) sent after the call, maybe out of order
        call_s = 0
        if truth.supervisor == "answered":
            self.on_time(at)
            reply = self.webhooks.deliver(made.params["Url"], made.params.get("Method", "POST"),
                                          {**base, "CallStatus": "in-progress"}, idempotency_token(made.sid, 0))
            dial = next(iter(ET.fromstring(reply.body).iter("Dial")), None) if reply.ok else None
            number = dial.find("Number") if dial is not None else None
            talk = 0
            if number is not None:
                truth.dialled, truth.caller_id = (number.text or "").strip(), dial.get("callerId")
                roll = rng.random()
                truth.caller = ("answered" if roll < cfg.caller_answer
                                else "declined" if roll < cfg.caller_answer + cfg.caller_decline else "missed")
                status = {"answered": "completed", "declined": "busy", "missed": "no-answer"}[truth.caller]
                talk = int(rng.uniform(*cfg.talk_s)) if truth.caller == "answered" else 0
                truth.talk_s = talk
                child = made.sid[:-6] + "c2c" + made.sid[-3:]
                at += dt.timedelta(seconds=talk + rng.uniform(2, 25))
                action = {**base, "CallStatus": "in-progress", "DialCallStatus": status, "DialCallSid": child,
                          "DialBridged": str(truth.caller == "answered").lower()}
                if truth.caller == "answered":
                    action["DialCallDuration"] = str(talk)
                if dial.get("action"):
                    callbacks.append((dial.get("action"), action))
                if number.get("statusCallback"):
                    callbacks.append((number.get("statusCallback"),
                                      {"CallSid": child, "ParentCallSid": made.sid, "AccountSid": self.sc.account_sid,
                                       "From": truth.caller_id or made.from_, "To": truth.dialled,
                                       "Direction": "outbound-dial", "CallStatus": status, "CallDuration": str(talk),
                                       "ApiVersion": "2010-04-01"}))
            call_s = int((at - now).total_seconds())
            final = "completed"
        else:
            at += dt.timedelta(seconds=30)
            final = "no-answer"
        if made.params.get("StatusCallback"):
            callbacks.append((made.params["StatusCallback"], {**base, "CallStatus": final, "CallDuration": str(call_s),
                                                               "SequenceNumber": "0"}))
        if rng.random() < faults.reorder_status_callbacks:
            callbacks.reverse()
        for step, (url, params) in enumerate(callbacks, start=1):
            self.on_time(at)
            self.webhooks.deliver(self.target.url(url), "POST", params, idempotency_token(made.sid, 100 + step),
                                  duplicate=rng.random() < faults.duplicate_status_callback)
        return truth


class _NoLatency:
    def add(self, path: str, seconds: float) -> None:
        pass
