"""What happens to the follow-ups the app sends: delivery receipts, callers' replies, call-backs.

For every Message and Call the app created on the REST stand-in (``emulator.twilio_rest``),
``FollowupPlayer.play`` does what Twilio and the caller would, over the app's real webhooks
(signed, some status callbacks twice or out of order):

- a message: ``sent`` and ``delivered`` status callbacks; then the caller (``[followups]``
  shares of the scenario) replies to every question (forgiving formats: " 1 ", "5.", "yes",
  "да"; some first send something unreadable, some reply after the expiry), says STOP (or
  СТОП), sends garbage, or never replies;
- a call: machine detection's verdict (``AnsweredBy``) on the call's ``url``; a person takes
  the keypad survey, a machine gets whatever the app answers; or it rings out; then the
  final status callback.

A caller answers about their latest call with a leg they left before the survey was done,
from the emulator's truth (the agent's latent quality, whether the problem was solved), with
the in-call survey's own answer model. ``FollowupTruth`` records what each caller did.
``on_time(t)`` is told the simulated time before each request (a harness running the app on
simulated time sets its clock from it); the app is reached only over HTTP/WSGI.
"""
from __future__ import annotations

import datetime as dt
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Callable

from .scenario import Scenario
from .transport import Target
from .truth import CallTruth, LegTruth
from .twilio_rest import Created, FakeTwilioRest
from .webhooks import WebhookClient, idempotency_token

HUMAN, MACHINE = "human", "machine_start"


@dataclass
class FollowupTruth:
    sid: str
    kind: str                    # message | call
    to: str
    call_sid: str | None         # the call the caller answers about
    agent_id: str | None
    behaviour: str               # reply | reply-late | stop | garbage | silent | human | machine | no-answer
    answers: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)   # the app's texts, in order

    def to_dict(self) -> dict:
        return asdict(self)


class FollowupPlayer:
    def __init__(self, scenario: Scenario, rest: FakeTwilioRest, target: Target, calls: list[CallTruth],
                 on_time: Callable[[dt.datetime], None] | None = None, from_number: str = "+15005550006"):
        self.sc, self.rest, self.target, self.on_time = scenario, rest, target, on_time or (lambda t: None)
        self.from_number = from_number
        self.calls = sorted(calls, key=lambda c: c.start_s)
        self.webhooks = WebhookClient(target.client, scenario.auth_token, scenario.faults, 15.0, _NoLatency())
        self.truth: list[FollowupTruth] = []
        self._steps = 0

    def play(self, now: dt.datetime) -> list[FollowupTruth]:
        """Play every created resource not played yet, starting at simulated time ``now``."""
        done = []
        for made in self.rest.sent():
            if made.played:
                continue
            made.played = True
            rng = random.Random(f"{self.sc.seed}:followup:{made.sid}")
            truth = self._sms(made, now, rng) if made.kind == "message" else self._call(made, now, rng)
            self.truth.append(truth)
            done.append(truth)
        return done

    # -- who is asked ----------------------------------------------------------------------
    def _subject(self, number: str, now: dt.datetime) -> tuple[CallTruth | None, LegTruth | None]:
        epoch = self.sc.epoch()
        for call in reversed(self.calls):
            if call.from_number != number or epoch + dt.timedelta(seconds=call.start_s) > now:
                continue
            for leg in reversed(call.legs):
                if leg.dial_status == "completed" and (leg.hung_up_by == "caller" or len(leg.survey) < 2):
                    return call, leg
        return None, None

    def _answer(self, question: str, leg: LegTruth | None, rng: random.Random, spoken: bool) -> str:
        """The caller's answer to a question they read or heard (yes/no, or 1-5), in their own words."""
        resolved, quality = (leg.resolved, leg.quality or 0.5) if leg else (False, 0.5)
        if "5" not in question:     # the yes/no question
            yes = rng.random() < (0.9 if resolved else 0.12)
            if spoken:
                return "1" if yes else "2"
            return rng.choice((["1", " 1 ", "1.", "yes", "Да"]) if yes else ["2", "2!", "no", "нет"])
        difficulty = self.sc.callers.difficulty.get(leg.queue, 0.0) if leg and leg.queue else 0.0
        score = (1 + 4 * quality - 2 * difficulty + (0.5 if resolved else -0.8)
                 - (1.0 if leg is not None and leg.cut_short else 0.0))
        value = str(min(5, max(1, round(score + rng.gauss(0, 0.6)))))
        return value if spoken else rng.choice([value, f"{value}.", f" {value} ", f"{value} - thanks"])

    # -- SMS -------------------------------------------------------------------------------
    def _sms(self, made: Created, now: dt.datetime, rng: random.Random) -> FollowupTruth:
        cfg = self.sc.followups
        call, leg = self._subject(made.to, now)
        self._receipts(made, now, rng)
        roll = rng.random()
        behaviour = ("reply" if roll < cfg.reply else "stop" if roll < cfg.reply + cfg.stop
                     else "garbage" if roll < cfg.reply + cfg.stop + cfg.garbage else "silent")
        if behaviour == "reply" and rng.random() < cfg.late:
            behaviour = "reply-late"
        truth = FollowupTruth(made.sid, "message", made.to, call.call_sid if call else None,
                              leg.agent_id if leg else None, behaviour)
        at = now + dt.timedelta(minutes=rng.uniform(*cfg.reply_delay_min))
        if behaviour == "reply-late":
            at = now + dt.timedelta(hours=rng.uniform(25, 40))
        if behaviour == "silent":
            return truth
        if behaviour == "stop":
            english = call is None or call.language != "2"
            words = ["STOP", "Stop", "unsubscribe"] if english else ["СТОП", "стоп", "Отписаться"]
            body = rng.choice(words)
            if english:
                self.rest.opted_out.add(made.to)      # Twilio blocks its own keywords on long codes
            truth.replies.append(self._text(made, body, at, {"OptOutType": "STOP"} if english else {}) or "")
            return truth
        question = made.params.get("Body", "")
        if behaviour == "garbage" or rng.random() < cfg.wrong_first:
            question = self._text(made, rng.choice(["???", "who is this", "🙂", "maybe", "12 34"]), at) or ""
            truth.replies.append(question)
            if behaviour == "garbage":
                return truth
            at += dt.timedelta(minutes=rng.uniform(0.5, 5))
        for _ in range(6):
            if not question or not re.search(r"\d", question):
                break
            answer = self._answer(question, leg, rng, spoken=False)
            truth.answers.append(answer.strip())
            question = self._text(made, answer, at) or ""
            truth.replies.append(question)
            at += dt.timedelta(minutes=rng.uniform(0.3, 4))
        return truth

    def _text(self, made: Created, body: str, at: dt.datetime, extra: dict | None = None) -> str | None:
        """An incoming SMS from the caller; returns the app's ``<Message>`` text, if any."""
        self._steps += 1
        sid = f"SM{self.sc.seed:08x}{self._steps:024x}"
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.sc.account_sid,
                  "From": made.to, "To": made.from_, "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01", **(extra or {})}
        self.on_time(at)
        dup = random.Random(sid).random() < self.sc.faults.duplicate_request
        reply = self.webhooks.deliver(self.target.url("/sms/incoming"), "POST", params,
                                      idempotency_token(sid, 0), duplicate=dup)
        if not reply.ok:
            return None
        root = ET.fromstring(reply.body)
        texts = ["".join(m.itertext()).strip() for m in root.iter("Message")]
        return " ".join(texts) or None

    def _receipts(self, made: Created, now: dt.datetime, rng: random.Random) -> None:
        url = made.params.get("StatusCallback")
        if not url:
            return
        statuses = ["sent", "delivered"]
        if rng.random() < self.sc.faults.reorder_status_callbacks:
            statuses.reverse()
        for status in statuses:
            params = {"MessageSid": made.sid, "MessageStatus": status, "AccountSid": self.sc.account_sid,
                      "From": made.from_, "To": made.to, "ApiVersion": "2010-04-01"}
            self.on_time(now)
            self.webhooks.deliver(url, "POST", params, idempotency_token(made.sid, len(status)),
                                  duplicate=rng.random() < self.sc.faults.duplicate_status_callback)

    # -- call-backs ------------------------------------------------------------------------
    def _call(self, made: Created, now: dt.datetime, rng: random.Random) -> FollowupTruth:
        cfg = self.sc.followups
        call, leg = self._subject(made.to, now)
        roll = rng.random()
        behaviour = HUMAN if roll < cfg.answer else "machine" if roll < cfg.answer + cfg.machine else "no-answer"
        truth = FollowupTruth(made.sid, "call", made.to, call.call_sid if call else None,
                              leg.agent_id if leg else None, behaviour)
        at = now + dt.timedelta(seconds=rng.uniform(5, 25))
        base = {"CallSid": made.sid, "AccountSid": self.sc.account_sid, "From": made.from_, "To": made.to,
                "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        final, duration = "no-answer", 0
        if behaviour != "no-answer":
            final = "completed"
            url = made.params.get("Url", "")
            extra = {"CallStatus": "in-progress", "AnsweredBy": HUMAN if behaviour == HUMAN else MACHINE}
            for step in range(12):
                self.on_time(at)
                reply = self.webhooks.deliver(url, made.params.get("Method", "POST"), {**base, **extra},
                                              idempotency_token(made.sid, step))
                if not reply.ok:
                    break
                gather = next(iter(ET.fromstring(reply.body).iter("Gather")), None)
                if gather is None or behaviour != HUMAN:
                    break
                heard = " ".join("".join(s.itertext()) for s in gather.iter("Say"))
                digit = self._answer(heard, leg, rng, spoken=True)
                truth.answers.append(digit)
                at += dt.timedelta(seconds=rng.uniform(4, 12))
                url, extra = self.target.url(gather.get("action", url)), {"CallStatus": "in-progress", "Digits": digit}
            duration = int((at - now).total_seconds())
        status_url = made.params.get("StatusCallback")
        if status_url:
            self.on_time(at)
            self.webhooks.deliver(status_url, "POST", {**base, "CallStatus": final, "CallDuration": str(duration),
                                                       "SequenceNumber": "0"},
                                  idempotency_token(made.sid, 99),
                                  duplicate=rng.random() < self.sc.faults.duplicate_status_callback)
        return truth


class _NoLatency:
    def add(self, path: str, seconds: float) -> None:
        pass
