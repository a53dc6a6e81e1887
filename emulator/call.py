"""One inbound call: Twilio's TwiML interpreter as a simulated-time process.

The call posts to the Voice URL and runs the returned TwiML verb by verb.
A verb that fetches new TwiML (Gather/Enqueue/Dial action, Redirect) hands
control to that document; reaching the end of a document hangs up
(twilio.com/docs/voice/twiml: "If Twilio reaches the end of your TwiML, it
hangs up"). Relative URLs resolve against the URL of the current document
like a browser's (urljoin). Any fetch failure or invalid document is an
application error: the caller hears Twilio's error message and the call ends
(twilio.com/docs/usage/webhooks/webhooks-connection-overrides, errors 11200,
12100, 12200).

Every request carries Twilio's standard voice parameters (AccountSid,
ApiVersion, CallSid, CallStatus, Direction, From, To, Caller, Called);
CallStatus is `ringing` on the first request of an inbound call,
`in-progress` afterwards and `completed` once the caller has gone
(twilio.com/docs/voice/twiml#request-parameters).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urljoin

from . import twiml
from .agents import AgentConsole, SimAgent
from .callers import Caller
from .engine import Engine, Http, Wait
from .queues import QueueBook
from .scenario import Scenario
from .truth import AppError, CallTruth, LegTruth
from .webhooks import TWIML_CONTENT_TYPES, WebhookClient, idempotency_token

# What callers say after the beep of a survey <Record>, by language key of the IVR.
WORDS = {
    "1": ["My refund has still not arrived.", "Nobody could tell me when the engineer comes.",
          "I was charged twice and the agent did not fix it.", "The internet still drops every evening."],
    "2": ["Мне так и не вернули деньги.", "Никто не сказал, когда придёт мастер.",
          "С меня списали дважды, а оператор ничего не исправил.", "Интернет всё так же пропадает по вечерам."],
}
APP_ERROR_MESSAGE_S = 4.0   # "We are sorry, an application error has occurred. Goodbye."
INFINITE_LOOPS = 1000       # loop="0" repeats until something else happens
WAIT_LOOP_FLOOR_S = 1.0     # a waitUrl document that takes no time is not re-fetched in zero time


class CallerHungUp(Exception):
    pass


class CallEnds(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ApplicationError(Exception):
    def __init__(self, error: AppError):
        super().__init__(error.detail)
        self.error = error


class LeaveQueue(Exception):
    pass


@dataclass
class Context:
    """What all calls of a run share."""

    scenario: Scenario
    engine: Engine
    webhooks: WebhookClient
    resolve: Callable[[str], str]          # path -> absolute URL on the target
    agents: dict[str, SimAgent]
    console: AgentConsole
    on_finish: Callable[["Call"], None]
    queues: QueueBook = field(default_factory=QueueBook)
    callback_errors: int = 0
    recordings: Callable[[str], None] | None = None   # told each RecordingSid made (the REST stand-in)

    def __post_init__(self) -> None:
        self.by_phone = {a.spec.phone: a for a in self.agents.values() if a.spec.phone}
        self.epoch = self.scenario.epoch()

    def chore(self, at: float, *fns: Callable[[], None] | None) -> None:
        """Agent-console requests at simulated time `at`, each sent only after the one
        before it has answered (an agent's presence must not overtake its
        registration in the thread pool); None entries (NullConsole) are skipped."""
        requests = [fn for fn in fns if fn is not None]
        if not requests:
            return

        def proc():
            yield
            for fn in requests:
                yield Http(fn)
        self.engine.spawn(proc(), at)


@dataclass
class Survey:
    leg: LegTruth
    quality: float
    difficulty: float = 0.0
    index: int = 0


class Call:
    def __init__(self, ctx: Context, rng: random.Random, caller: Caller, start_s: float,
                 repeat_of: str | None = None):
        self.ctx = ctx
        self.sc = ctx.scenario
        self.rng = rng
        self.caller = caller
        self.sid = "CA" + f"{rng.getrandbits(128):032x}"
        self.transfer_rng = random.Random(f"{self.sid}:transfers")   # its own stream: no other draw moves
        self.start_s = start_s
        self.now = start_s
        self.status = "ringing"
        self.deadline: float | None = None   # the caller hangs up at this time (patience)
        self.requests = 0
        self.sequence = 0
        self.reorder_callbacks = rng.random() < self.sc.faults.reorder_status_callbacks
        self.ivr_index = 0
        self.survey: Survey | None = None
        self.queue_name: str | None = None
        self.queue_wait_s = 0.0
        start = ctx.epoch.timestamp() + start_s
        self.truth = CallTruth(
            call_sid=self.sid, from_number=caller.from_number, repeat_of=repeat_of, start_s=start_s,
            start=_utc(start).isoformat())

    # -- process -----------------------------------------------------------------

    def process(self):
        self.now = yield
        self._status_event("initiated")
        self._status_event("ringing")
        try:
            try:
                doc = yield from self.fetch(self.ctx.resolve(self.sc.voice_url), "POST")
            finally:
                self.status = "in-progress"
                self._status_event("answered")
            yield from self.run(doc)
            self.truth.end_reason = "end-of-document"
        except CallerHungUp:
            self.truth.end_reason = "caller-hangup"
        except CallEnds as end:
            self.truth.end_reason = end.reason
        except ApplicationError as exc:
            self.truth.app_errors.append(exc.error)
            self.truth.end_reason = "app-error"
            self.deadline = None
            yield from self.wait(APP_ERROR_MESSAGE_S)
        self.status = "completed"
        self.truth.duration_s = round(self.now - self.start_s, 3)
        self.truth.requests = self.requests
        self.truth.resolved = any(leg.resolved for leg in self.truth.legs)
        self._status_event("completed")
        self.ctx.on_finish(self)

    # -- time and requests -----------------------------------------------------------

    def wait(self, seconds: float):
        """Let simulated time pass; the caller hangs up if patience runs out first."""
        if self.deadline is not None and self.now + seconds >= self.deadline:
            self.now = yield Wait(max(0.0, self.deadline - self.now))
            raise CallerHungUp
        if self.now + seconds - self.start_s > self.sc.timing.max_call_s:
            self.now = yield Wait(max(0.0, self.start_s + self.sc.timing.max_call_s - self.now))
            raise CallEnds("loop-guard")
        self.now = yield Wait(seconds)

    def params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        p = {
            "AccountSid": self.sc.account_sid, "ApiVersion": "2010-04-01", "CallSid": self.sid,
            "CallStatus": self.status, "Direction": "inbound",
            "From": self.caller.from_number, "Caller": self.caller.from_number,
            "To": self.sc.to_number, "Called": self.sc.to_number,
        }
        p.update(extra or {})
        return p

    def _deliver(self, url: str, method: str, extra: dict[str, str] | None):
        self.requests += 1
        if self.requests > self.sc.timing.max_requests_per_call:
            raise CallEnds("loop-guard")
        faults = self.sc.faults
        dup = self.rng.random() < faults.duplicate_request
        lose = self.rng.random() < faults.lost_response
        params, token = self.params(extra), idempotency_token(self.sid, self.requests)
        reply = yield Http(lambda: self.ctx.webhooks.deliver(
            url, method, params, token, duplicate=dup, lose_first_response=lose))
        if reply.duplicate is not None and (reply.duplicate[0] != reply.status
                                            or not twiml.equivalent(reply.body, reply.duplicate[1])):
            self.truth.duplicate_mismatches.append(reply.url)
        return reply

    def fetch(self, url: str, method: str, extra: dict[str, str] | None = None):
        """Request TwiML and parse it; failures become an ApplicationError."""
        reply = yield from self._deliver(url, method, extra)
        if not reply.ok:
            what = f"HTTP {reply.status}" if reply.status else {"rt": "timeout", "ct": "connection failed"}[reply.failure]
            raise ApplicationError(AppError(self.now, reply.url, 11200, f"{what} after {reply.attempts} attempt(s)"))
        if reply.content_type not in TWIML_CONTENT_TYPES:
            raise ApplicationError(AppError(self.now, reply.url, 12300, f"content type {reply.content_type!r}"))
        try:
            return twiml.parse(reply.body, reply.url)
        except twiml.TwiMLError as exc:
            raise ApplicationError(AppError(self.now, reply.url, exc.code, str(exc))) from None

    def notify(self, url: str, method: str, extra: dict[str, str]):
        """A request whose TwiML nobody will run (the caller is gone); only failures are kept."""
        reply = yield from self._deliver(url, method, extra)
        if not reply.ok:
            self.truth.app_errors.append(AppError(self.now, reply.url, 11200, f"{reply.failure} (after hang-up)"))

    # -- documents -----------------------------------------------------------------

    def run(self, doc: twiml.Document, wait_mode: bool = False):
        """Run documents until one ends; `wait_mode` restricts verbs to those a waitUrl allows."""
        while doc is not None:
            nxt = None
            for verb in doc.verbs:
                if wait_mode and verb.name not in twiml.WAIT_VERBS:
                    raise ApplicationError(AppError(self.now, doc.url, 12200, f"<{verb.name}> is not allowed in a waitUrl document"))
                if verb.name not in twiml.SUPPORTED:
                    raise ApplicationError(AppError(self.now, doc.url, 0, f"<{verb.name}> is valid TwiML the emulator does not emulate"))
                nxt = yield from getattr(self, "_" + verb.name.lower())(verb, doc)
                if nxt is not None:
                    break
            else:
                return
            doc = nxt

    def _url(self, doc: twiml.Document, value: str | None, verb: twiml.Verb) -> str:
        if not value:
            raise ApplicationError(AppError(self.now, doc.url, 12200, f"<{verb.name}> needs a URL"))
        return urljoin(doc.url, value)

    def _loops(self, verb: twiml.Verb, infinite: int) -> int:
        loops = int(verb.attr("loop", "1") or 1)
        return infinite if loops == 0 else loops

    def _duration(self, verb: twiml.Verb, infinite: int = INFINITE_LOOPS) -> float:
        """How long Say/Play/Pause take: Say at `words_per_second`, Play a fixed clip, Pause its length."""
        t = self.sc.timing
        if verb.name == "Say":
            return max(0.5, len(verb.text.split()) / t.words_per_second) * self._loops(verb, infinite)
        if verb.name == "Play":
            if verb.attr("digits"):
                return 0.5 * len(verb.attr("digits"))
            return t.play_s * self._loops(verb, infinite)
        if verb.name == "Pause":
            return float(verb.attr("length", "1"))
        return 0.0

    # -- verbs ---------------------------------------------------------------------

    def _say(self, verb, doc):
        """<Say>: speaks the text; takes time in proportion to its words (twilio.com/docs/voice/twiml/say)."""
        yield from self.wait(self._duration(verb))

    def _play(self, verb, doc):
        """<Play>: plays audio `loop` times, 0 meaning until something else happens (twilio.com/docs/voice/twiml/play)."""
        yield from self.wait(self._duration(verb))

    def _pause(self, verb, doc):
        """<Pause>: waits `length` seconds, default 1 (twilio.com/docs/voice/twiml/pause)."""
        yield from self.wait(self._duration(verb))

    def _redirect(self, verb, doc):
        """<Redirect>: fetches TwiML from the URL with `method` (default POST) and runs it
        instead of the rest of this document (twilio.com/docs/voice/twiml/redirect)."""
        return (yield from self.fetch(self._url(doc, verb.text, verb), verb.attr("method", "POST")))

    def _hangup(self, verb, doc):
        """<Hangup>: ends the call (twilio.com/docs/voice/twiml/hangup)."""
        yield from ()
        raise CallEnds("app-hangup")

    def _leave(self, verb, doc):
        """<Leave>: takes the caller out of the queue they wait in; only meaningful in a
        waitUrl document (twilio.com/docs/voice/twiml/leave). Elsewhere it does nothing."""
        yield from ()
        if self.queue_name is not None:
            raise LeaveQueue

    def _gather(self, verb, doc):
        """<Gather>: plays nested Say/Play/Pause, then waits `timeout` (default 5) seconds for digits.

        Digits end at `numDigits` or `finishOnKey` (default #, not included in
        Digits) and are posted to `action` (default: the current document's URL)
        with `method` (default POST). Without input no request is made and the
        next verb runs, unless `actionOnEmptyResult="true"`, which posts an empty
        result (twilio.com/docs/voice/twiml/gather).
        """
        timeout = float(verb.attr("timeout", "5"))
        num_digits = int(verb.attr("numDigits")) if verb.attr("numDigits") else None
        finish = verb.attr("finishOnKey", "#")
        action = urljoin(doc.url, verb.attr("action")) if verb.attr("action") else doc.url
        prompt_once = sum(self._duration(c, infinite=1) for c in verb.children)
        prompt_full = sum(self._duration(c) for c in verb.children)

        digits = yield from self._caller_input(prompt_once)
        if digits is None:
            yield from self.wait(prompt_full + timeout)
            if verb.attr("actionOnEmptyResult", "false").lower() != "true":
                return None
            params = {"Digits": "", "FinishedOnKey": ""}
        else:
            listen = prompt_once if self.rng.random() < 0.7 else prompt_once * self.rng.uniform(0.3, 1.0)
            yield from self.wait(listen + self.caller.reaction_s())
            if num_digits is not None and len(digits) >= num_digits:
                params = {"Digits": digits[:num_digits], "FinishedOnKey": ""}
            elif finish:
                params = {"Digits": digits, "FinishedOnKey": finish[0]}
            else:
                yield from self.wait(timeout)
                params = {"Digits": digits, "FinishedOnKey": ""}
        return (yield from self.fetch(action, verb.attr("method", "POST"), params))

    def _record(self, verb, doc):
        """<Record>: a beep, then the caller's voice until `timeout` seconds of silence, a
        `finishOnKey` key or `maxLength` seconds (twilio.com/docs/voice/twiml/record).

        A caller in the survey speaks (`callers.speak_words`) or stays silent; anyone else is
        silent. Silence makes an empty recording: no `action` request, the next verb runs
        (the Record page: "if Twilio receives an empty recording, it will not make a request
        to the 'action' URL"), and an `absent` recordingStatusCallback when subscribed.
        Words: `action` gets RecordingUrl, RecordingSid, RecordingDuration and Digits; the
        recordingStatusCallback (`completed`) and, with `transcribe`, the transcribeCallback
        (TranscriptionText, TranscriptionStatus, RecordingSid, RecordingUrl) follow as separate
        requests, late, sometimes duplicated or the transcription first
        (`faults.duplicate_status_callback`, `reorder_status_callbacks`), or, for the
        transcription, never (`faults.lost_transcription`). Its own random stream, so adding
        a <Record> changes no other draw of the call."""
        rng = random.Random(f"{self.sid}:words:{self.requests}")
        timeout = float(verb.attr("timeout", "5"))
        max_length = int(verb.attr("maxLength", "3600"))
        finish = verb.attr("finishOnKey", "1234567890*#")
        leg = self.survey.leg if self.survey is not None else None
        speaks = leg is not None and rng.random() < self.sc.callers.speak_words
        sid = "RE" + f"{rng.getrandbits(128):032x}"
        url = f"https://api.twilio.com/2010-04-01/Accounts/{self.sc.account_sid}/Recordings/{sid}"
        events = set((verb.attr("recordingStatusCallbackEvent") or "completed").split())
        status_url = verb.attr("recordingStatusCallback")
        yield from self.wait(1.0)   # the beep
        if not speaks:
            yield from self.wait(timeout)
            if status_url and "absent" in events:
                self._recording_callback(rng, urljoin(doc.url, status_url), {
                    "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "absent",
                    "RecordingDuration": "0", "RecordingChannels": "1", "RecordingSource": "RecordVerb"}, 0, 1.0, 5.0)
            return None
        seconds = rng.randint(2, max(2, min(max_length, 25)))
        key = finish[0] if finish and rng.random() < 0.6 else ""
        yield from self.wait(seconds + (0.5 if key else timeout if seconds < max_length else 0.0))
        leg.words, leg.recording_sid = rng.choice(WORDS.get(self.truth.language or "1", WORDS["1"])), sid
        if self.ctx.recordings is not None:
            self.ctx.recordings(sid)
        # Reordered: the transcription comes at once, the recording's status late.
        status_window, text_window = ((5.0, 30.0), (0.0, 3.0)) if self.reorder_callbacks else ((1.0, 10.0), (15.0, 60.0))
        if status_url and "completed" in events:
            self._recording_callback(rng, urljoin(doc.url, status_url), {
                "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed",
                "RecordingDuration": str(seconds), "RecordingChannels": "1", "RecordingSource": "RecordVerb"},
                1, *status_window)
        if verb.attr("transcribe", "false").lower() == "true" and verb.attr("transcribeCallback") \
                and rng.random() >= self.sc.faults.lost_transcription:
            leg.transcription_sent = True
            ok = rng.random() >= 0.05
            self._recording_callback(rng, urljoin(doc.url, verb.attr("transcribeCallback")), {
                "TranscriptionSid": "TR" + sid[2:], "TranscriptionStatus": "completed" if ok else "failed",
                "TranscriptionText": leg.words if ok else "", "TranscriptionType": "fast",
                "TranscriptionUrl": f"{url}/Transcriptions/TR{sid[2:]}", "RecordingSid": sid, "RecordingUrl": url},
                2, *text_window)
        action = urljoin(doc.url, verb.attr("action")) if verb.attr("action") else doc.url
        return (yield from self.fetch(action, verb.attr("method", "POST"), {
            "RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(seconds), "Digits": key}))

    def _recording_callback(self, rng: random.Random, url: str, extra: dict[str, str], n: int,
                            lo: float, hi: float) -> None:
        """One of a recording's callbacks, delivered `lo`–`hi` s from now, maybe twice."""
        params = self.params(extra)
        token = idempotency_token(self.sid, 20_000 + 10 * self.requests + n)
        dup = rng.random() < self.sc.faults.duplicate_status_callback
        ctx = self.ctx

        def deliver():
            yield
            reply = yield Http(lambda: ctx.webhooks.deliver(url, "POST", params, token, duplicate=dup))
            if not reply.ok:
                ctx.callback_errors += 1
        ctx.engine.spawn(deliver(), self.now + rng.uniform(lo, hi))

    def _caller_input(self, prompt_s: float):
        """What the caller presses at this Gather (None: silence); may hang up instead."""
        if self.queue_name is not None:
            return None
        if self.survey is not None:
            s = self.survey
            answer = self.caller.survey_input(s.index, s.quality, s.leg.resolved, s.leg.cut_short, s.difficulty)
            if answer == "hangup":
                s.leg.survey_declined = s.index == 0
                yield from self.wait(self.rng.uniform(0.5, max(0.5, min(prompt_s, 4.0))))
                raise CallerHungUp
            if answer is not None:
                s.leg.survey.append(answer)
            s.index += 1
            return answer
        index = self.ivr_index
        self.ivr_index += 1
        if self.caller.hangs_up_in_ivr(index):
            if not self.truth.queues:
                self.truth.abandoned_in_ivr = True
            yield from self.wait(self.rng.uniform(0.5, max(0.5, prompt_s)))
            raise CallerHungUp
        digit = self.caller.ivr_input(index)
        if index == 0:
            self.truth.language = digit
        elif digit is not None:
            self.truth.menu_keys.append(digit)
        return digit

    def _enqueue(self, verb, doc):
        """<Enqueue>: waits in the named queue (created on demand).

        The waitUrl (method `waitUrlMethod`, default POST) is requested on
        joining and again each time its TwiML finishes, with QueuePosition,
        QueueSid, QueueTime, AvgQueueTime, CurrentQueueSize, MaxQueueSize; it may
        use Play, Say, Pause, Gather, Redirect, Leave, Hangup. `<Leave>` takes
        the caller out and `action` is requested at once with QueueResult=leave;
        a caller who hangs up in the queue produces QueueResult=hangup; a full
        queue, QueueResult=queue-full. `action` gets QueueResult, QueueSid,
        QueueTime and its TwiML continues the call; without `action` the next
        verb runs (twilio.com/docs/voice/twiml/enqueue). Without a waitUrl the
        caller hears Twilio's hold music until they give up: agents here are
        not dequeued by `<Dial><Queue>`.
        """
        self.survey = None
        name = verb.text
        queue = self.ctx.queues.get(name)
        self.truth.queues.append(name)
        action = self._url(doc, verb.attr("action"), verb) if verb.attr("action") else None
        method = verb.attr("method", "POST")
        if not queue.join(self.sid, self.now):
            result = "queue-full"
        else:
            self.queue_name = name
            if self.deadline is None:
                self.deadline = self.now + self.caller.patience_s()
            result = yield from self._wait_in_queue(queue, verb, doc, action, method)
        self.queue_wait_s = queue.leave(self.sid, self.now) if result != "queue-full" else 0.0
        self.queue_name = None
        if action is None:
            return None
        return (yield from self.fetch(action, method, {
            "QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(int(self.queue_wait_s))}))

    def _wait_in_queue(self, queue, verb, doc, action, method):
        wait_url = verb.attr("waitUrl")
        try:
            if not wait_url:
                yield from self.wait(math.inf)
            while True:
                began = self.now
                wait_doc = yield from self.fetch(self._url(doc, wait_url, verb), verb.attr("waitUrlMethod", "POST"),
                                                 queue.wait_params(self.sid, self.now))
                try:
                    yield from self.run(wait_doc, wait_mode=True)
                except LeaveQueue:
                    return "leave"
                if self.now - began < WAIT_LOOP_FLOOR_S:
                    yield from self.wait(WAIT_LOOP_FLOOR_S)
        except (CallerHungUp, CallEnds) as gone:
            queue_time = queue.leave(self.sid, self.now)
            self.queue_name = None
            if isinstance(gone, CallerHungUp):
                self.truth.abandoned_in_queue = True
            if action is not None:
                self.status = "completed"
                yield from self.notify(action, method, {
                    "QueueResult": "hangup", "QueueSid": queue.sid, "QueueTime": str(int(queue_time))})
            raise
        except ApplicationError:
            queue.leave(self.sid, self.now)
            self.queue_name = None
            raise

    def _dial(self, verb, doc):
        """<Dial>: rings Client identities / Numbers at once; the first to answer is bridged.

        `timeout` (default 30 s) bounds ringing, `timeLimit` (default 14400 s)
        the bridge. When the dial ends, `action` (if any; method default POST)
        gets DialCallStatus (completed, busy, no-answer, failed), DialCallSid,
        DialCallDuration and DialBridged, and its TwiML continues the call; the
        verbs after <Dial> never run when `action` is set
        (twilio.com/docs/voice/twiml/dial). Who hung up shows in the parent
        CallStatus: `in-progress` when the agent ended (the caller is still
        there), `completed` when the caller did; in the latter case nothing
        more runs, and whether `action` is requested at all is not stated
        plainly, so it is requested with probability
        `faults.dial_action_on_caller_hangup`.
        """
        self.survey = None
        action = self._url(doc, verb.attr("action"), verb) if verb.attr("action") else None
        method = verb.attr("method", "POST")
        timeout = float(verb.attr("timeout", "30"))
        time_limit = float(verb.attr("timeLimit", "14400"))
        targets = self._dial_targets(verb, doc)
        dial_sid = "CA" + f"{self.rng.getrandbits(128):032x}"
        outcomes = [(a, a.ring(self.rng, self.now, timeout) if a else None) for a in targets]
        answered = sorted(((o.after_s, i) for i, (a, o) in enumerate(outcomes) if o and o.status == "answered"))
        first = outcomes[answered[0][1]][0] if answered else (targets[0] if targets else None)
        leg = LegTruth(agent_id=first.spec.id if first else None,
                       behaviour=first.spec.behaviour if first else None,
                       quality=first.spec.quality if first else None,
                       queue=self.queue_name_last(), queue_wait_s=round(self.queue_wait_s, 3),
                       dial_status="no-answer")
        self.truth.legs.append(leg)
        self.queue_wait_s = 0.0
        if not answered:
            return (yield from self._dial_failed(outcomes, leg, action, method, dial_sid))

        ring_s = answered[0][0]
        try:
            yield from self.wait(ring_s)
        except CallerHungUp:
            leg.dial_status, leg.ring_s = "canceled", round(ring_s, 3)
            raise
        agent = first
        agent.on_call = True
        self.deadline = None
        queue = self.queue_name_last() or ""
        plan = agent.plan_talk(self.rng, self.sc.callers.linger_s, self.sc.timing.handle_time_cap_s,
                               self.sc.callers.misrouted.get(queue, 0.0), self.transfer_rng)
        talk = min(plan.end_s, time_limit)
        yield from self.wait(talk)
        agent.on_call = False
        hung_up_by = "time-limit" if time_limit < plan.end_s else ("agent" if plan.agent_ends else "caller")
        leg.dial_status, leg.ring_s, leg.talk_s = "completed", round(ring_s, 3), round(talk, 3)
        leg.need_s, leg.hung_up_by = round(plan.need_s, 3), hung_up_by
        leg.cut_short = hung_up_by != "caller" and talk < plan.need_s
        leg.cut_reason = plan.cut_reason if hung_up_by == "agent" else ("time-limit" if leg.cut_short else None)
        difficulty = self.sc.callers.difficulty.get(leg.queue or "", 0.0)
        leg.resolved = self.caller.resolve(agent.spec.quality, leg.cut_short, difficulty)
        if agent.spec.wrap_up_s is not None and agent.spec.on_shift(self.now + agent.spec.wrap_up_s):
            self.ctx.chore(self.now + agent.spec.wrap_up_s, self.ctx.console.presence(agent.spec.id, "available"))
        if plan.transfer and hung_up_by == "agent":
            # The console's transfer request answers before the agent's hang-up reaches Twilio.
            leg.transferred_to = self.sc.callers.transfer_to.get(queue)
            request = self.ctx.console.transfer(agent.spec.id, leg.transferred_to) if leg.transferred_to else None
            if request is not None:
                yield Http(request)
        params = {"DialCallStatus": "completed", "DialCallSid": dial_sid,
                  "DialCallDuration": str(int(round(talk))), "DialBridged": "true"}
        if hung_up_by == "caller":
            self.status = "completed"
            if action is not None and self.rng.random() < self.sc.faults.dial_action_on_caller_hangup:
                yield from self.notify(action, method, params)
            raise CallerHungUp
        self.survey = Survey(leg=leg, quality=agent.spec.quality, difficulty=difficulty)
        if action is None:
            return None
        return (yield from self.fetch(action, method, params))

    def _dial_failed(self, outcomes, leg, action, method, dial_sid):
        statuses = [o.status if o else "failed" for _, o in outcomes]
        status = "no-answer" if "no-answer" in statuses else "busy" if "busy" in statuses else "failed"
        leg.dial_status = status
        ringing = max((o.after_s for _, o in outcomes if o), default=1.0)
        try:
            yield from self.wait(ringing)
        except CallerHungUp:
            leg.dial_status = "canceled"
            raise
        leg.ring_s = round(ringing, 3)
        for agent, outcome in outcomes:
            if agent and outcome.status == "no-answer" and self.now >= agent.away_until:
                agent.away_until = self.now + agent.spec.break_s
                if agent.spec.on_shift(agent.away_until):
                    self.ctx.chore(agent.away_until, self.ctx.console.presence(agent.spec.id, "available"))
        if action is None:
            return None
        return (yield from self.fetch(action, method, {
            "DialCallStatus": status, "DialCallSid": dial_sid, "DialBridged": "false"}))

    def _dial_targets(self, verb, doc) -> list[SimAgent | None]:
        if not verb.children:
            return [self.ctx.by_phone.get(verb.text)] if verb.text else []
        targets = []
        for noun in verb.children:
            if noun.name == "Client":
                identity = noun.text or next((c.text for c in noun.children if c.name == "Identity"), "")
                targets.append(self.ctx.agents.get(identity))
            elif noun.name == "Number":
                targets.append(self.ctx.by_phone.get(noun.text))
            else:
                raise ApplicationError(AppError(self.now, doc.url, 0, f"<Dial><{noun.name}> is not emulated"))
        return targets

    def queue_name_last(self) -> str | None:
        return self.truth.queues[-1] if self.truth.queues else None

    # -- status callbacks ------------------------------------------------------------

    def _status_event(self, event: str) -> None:
        """Status callback for a call-progress event, if subscribed.

        Carries CallStatus, Timestamp (RFC 2822), SequenceNumber (from 0),
        CallbackSource=call-progress-events, and on completion CallDuration
        (seconds) and Duration (billed minutes). Callbacks are separate
        requests with no ordering or de-duplication promise
        (twilio.com/docs/voice/api/call-resource#statuscallback), hence the
        reorder/duplicate faults.
        """
        sc = self.sc
        if not sc.status_callback or event not in sc.status_callback_events:
            return
        status = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}.get(event, self.status)
        extra = {
            "CallStatus": status, "CallbackSource": "call-progress-events",
            "SequenceNumber": str(self.sequence),
            "Timestamp": email.utils.format_datetime(_utc(self.ctx.epoch.timestamp() + self.now)),
        }
        if event == "completed":
            seconds = int(round(self.now - self.start_s))
            extra.update(CallDuration=str(seconds), Duration=str(max(1, math.ceil(seconds / 60))))
        self.sequence += 1
        params = self.params(extra)
        url = self.ctx.resolve(sc.status_callback)
        token = idempotency_token(self.sid, 10_000 + self.sequence)
        dup = self.rng.random() < sc.faults.duplicate_status_callback
        delay = self.rng.uniform(0.0, 30.0) if self.reorder_callbacks else 0.0
        ctx = self.ctx

        def deliver():
            yield
            reply = yield Http(lambda: ctx.webhooks.deliver(url, "POST", params, token, duplicate=dup))
            if not reply.ok:
                ctx.callback_errors += 1
        ctx.engine.spawn(deliver(), self.now + delay)


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)
