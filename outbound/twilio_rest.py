"""Twilio's REST API (Messages, Calls) through the ``twilio`` package, as a follow-up ``Sender``,
a call-back ``Dialer`` (``TwilioDialer``: ring a supervisor for click-to-call) and a call's
state for reconciliation (``TwilioCalls``).

``TWILIO_API_BASE_URL`` points the client at another host (the emulator's stand-in in
tests, the demo and ``flask simulate``): the API domain's ``base_url`` is replaced, the
paths stay Twilio's (``/2010-04-01/Accounts/{AccountSid}/Messages.json``). Errors become
``survey.followups.SendError``: 429 and 5xx are retryable (5xx ambiguous: Twilio may have
created the resource), a timeout or lost connection is retryable and ambiguous, any other
4xx (21610 unsubscribed, 21211 invalid number…) is final. Every create waits for its slot
of the ``Pacer`` (``outbound.pacing``): the account's calls per second, the sender's messages
per second; a slot too far away is a retryable 429 that created nothing.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callbacks.calling import DialError
from callflow.reconcile import TwilioCall
from outbound.pacing import Paced, Pacer
from survey.followups import SendError

DEFAULT_BASE_URL = "https://api.twilio.com"
TIMEOUT_SECONDS = 10
RING_SECONDS = 30   # how long the supervisor's phone rings before Twilio gives up (no-answer)
MACHINE_DETECTION = "Enable"   # twilio.com/docs/voice/answering-machine-detection: AnsweredBy on the url request


class TwilioSender:
    def __init__(self, account_sid: str, auth_token: str, *, from_number: str = "", messaging_service_sid: str = "",
                 base_url: str = DEFAULT_BASE_URL, timeout: float = TIMEOUT_SECONDS, pacer: Pacer | None = None):
        if not account_sid or not auth_token:
            raise ValueError("follow-ups need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not from_number and not messaging_service_sid:
            raise ValueError("follow-ups need TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.client.api.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.from_number, self.service, self.pacer = from_number, messaging_service_sid, pacer

    def send_sms(self, *, to: str, body: str, status_callback: str) -> tuple[str, str]:
        sender = {"messaging_service_sid": self.service} if self.service else {"from_": self.from_number}
        self.paced("message", self.service or self.from_number)
        message = self._call(self.client.messages.create, to=to, body=body, status_callback=status_callback,
                             **sender)
        return message.sid, message.status

    def start_call(self, *, to: str, url: str, status_callback: str) -> tuple[str, str]:
        if not self.from_number:
            raise SendError("a call-back needs TWILIO_FROM_NUMBER (a Messaging Service cannot place calls)")
        self.paced("call", self.client.account_sid)
        call = self._call(self.client.calls.create, to=to, from_=self.from_number, url=url, method="POST",
                          status_callback=status_callback, status_callback_method="POST",
                          status_callback_event=["completed"], machine_detection=MACHINE_DETECTION)
        return call.sid, call.status

    def find_sent(self, *, channel: str, to: str, since: datetime) -> tuple[str, str] | None:
        # Not ``date_sent_after``: a message still queued has no date_sent yet.
        listing = self.client.messages.list if channel == "sms" else self.client.calls.list
        found = [r for r in self._call(listing, to=to, limit=20)
                 if (r.direction or "").startswith("outbound") and r.date_created is not None
                 and r.date_created >= since]
        return (found[0].sid, found[0].status) if found else None

    def paced(self, kind: str, key: str) -> None:
        """Wait for this create's slot (``call``: the account's CPS; ``message``: the sender's)."""
        if self.pacer is None:
            return
        try:
            self.pacer.wait(kind, key)
        except Paced as exc:   # as Twilio's own 429: nothing created, try again later
            raise SendError(str(exc), status=429, retryable=True) from exc
        except Exception as exc:   # the shared buckets' Redis is away: nothing created either
            raise SendError(f"pacing unavailable: {type(exc).__name__}", retryable=True) from exc

    @staticmethod
    def _call(fn, **kwargs):
        try:
            return fn(**kwargs)
        except TwilioRestException as exc:
            server = exc.status >= 500
            raise SendError(f"Twilio {exc.status} {exc.code}: {exc.msg}", code=exc.code, status=exc.status,
                            retryable=exc.status == 429 or server, ambiguous=server) from exc
        except requests.RequestException as exc:   # timeout, connection refused or reset
            raise SendError(f"Twilio unreachable: {type(exc).__name__}", retryable=True, ambiguous=True) from exc


class TwilioDialer:
    """``callbacks.calling.Dialer``: ``Calls.create`` to the supervisor (a number or
    ``client:<identity>``) from ``TWILIO_FROM_NUMBER``; the answer URL then dials the caller.
    The same client and error rules as ``TwilioSender``; errors become ``DialError``."""

    def __init__(self, sender: TwilioSender):
        if not sender.from_number:
            raise ValueError("call-backs need TWILIO_FROM_NUMBER: the caller sees the centre's number")
        self.sender = sender

    def ring(self, *, to: str, url: str, status_callback: str) -> tuple[str, str]:
        with _as_dial_error():
            self.sender.paced("call", self.sender.client.account_sid)
            call = self.sender._call(self.sender.client.calls.create, to=to, from_=self.sender.from_number, url=url,
                                     method="POST", status_callback=status_callback, status_callback_method="POST",
                                     status_callback_event=["completed"], timeout=RING_SECONDS)
        return call.sid, call.status

    def find_ring(self, *, to: str, since: datetime) -> list[tuple[str, str]]:
        with _as_dial_error():
            calls = self.sender._call(self.sender.client.calls.list, to=to, limit=20)
        return [(c.sid, c.status) for c in calls if (c.direction or "").startswith("outbound")
                and c.date_created is not None and c.date_created >= since]


@contextmanager
def _as_dial_error():
    try:
        yield
    except SendError as exc:
        raise DialError(str(exc), code=exc.code, status=exc.status, retryable=exc.retryable,
                        ambiguous=exc.ambiguous) from exc


class TwilioRecordings:
    """The caller's recorded words at Twilio: delete them when retention ends
    (``survey.words.RecordingRemover``) and fetch their audio for the dashboard's player, so
    supervisors never see Twilio's URL or the account's credentials. Needs only the account
    SID and auth token (no sending number)."""

    def __init__(self, account_sid: str, auth_token: str, *, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = TIMEOUT_SECONDS):
        if not account_sid or not auth_token:
            raise ValueError("recordings need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.account_sid, self.auth_token, self.timeout = account_sid, auth_token, timeout
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.base_url = self.client.api.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")

    def delete_recording(self, recording_sid: str) -> bool:
        """True when Twilio deleted it, False when it was already gone (404); ``SendError``
        otherwise (retryable on 429, 5xx and lost connections)."""
        try:
            return TwilioSender._call(self.client.recordings(recording_sid).delete)
        except SendError as exc:
            if exc.status == 404:
                return False
            raise

    def audio(self, recording_sid: str) -> tuple[bytes, str]:
        """The recording as MP3 (``…/Recordings/{Sid}.mp3``), built from the SID rather than a
        stored URL, so only this account's recordings are ever fetched with its credentials."""
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}.mp3"
        try:
            got = requests.get(url, auth=(self.account_sid, self.auth_token), timeout=self.timeout)
        except requests.RequestException as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}", retryable=True) from exc
        if got.status_code != 200:
            raise SendError(f"Twilio {got.status_code} for recording {recording_sid}", status=got.status_code)
        return got.content, got.headers.get("Content-Type", "audio/mpeg")


class TwilioCalls:
    """``callflow.reconcile.CallLookup``: a call's state as Twilio reports it (``calls(sid).fetch()``).
    404 means Twilio holds no such call; any other error raises ``SendError``."""

    def __init__(self, account_sid: str, auth_token: str, *, base_url: str = DEFAULT_BASE_URL,
                 timeout: float = TIMEOUT_SECONDS):
        if not account_sid or not auth_token:
            raise ValueError("reconciling calls needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.client.api.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")

    def call_state(self, sid: str) -> TwilioCall:
        try:
            call = TwilioSender._call(self.client.calls(sid).fetch)
        except SendError as exc:
            if exc.status == 404:
                return TwilioCall(None)
            raise
        duration = str(call.duration or "")
        return TwilioCall(call.status, int(duration) if duration.isdigit() else None, call.end_time)
