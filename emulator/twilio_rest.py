"""Twilio's REST API, played locally: ``Messages`` and ``Calls`` creation and listing, and
the ``Recordings`` of the callers' words (fetch the audio, ``DELETE``).

A real HTTP server (the app's ``twilio`` client reaches it through ``TWILIO_API_BASE_URL``)
answering the way api.twilio.com does (twilio/twilio-oai ``CreateMessage``, ``CreateCall``,
``ListMessage``, ``ListCall``): HTTP Basic auth with the account SID and auth token, form
bodies, ``201`` with the resource as JSON (a fresh ``SM…``/``CA…`` SID, ``status=queued``),
errors as ``{"code", "message", "more_info", "status"}``. Faults on demand (``fail``) or at
scenario rates: 429 (code 20429), 500 (before or AFTER creating the resource: the client
cannot tell), a response slower than the client's timeout (also after creating), and
21610 for a number that said STOP (as Twilio does on long codes). Throughput on demand
(``limits``): calls a second for the account, messages a second per sender; a create above
it (beyond ``jitter_s`` of network jitter) is refused with 429 (code 20429) and creates
nothing. Nothing is sent anywhere from here: ``emulator.followups`` plays what happens to
each created resource.

Recordings (twilio/twilio-oai ``DeleteRecording``): ``keep_recording(sid)`` stores one (the
emulated calls do, for each caller who spoke after a ``<Record>``); ``GET …/Recordings/{Sid}.mp3``
answers its audio, ``DELETE …/Recordings/{Sid}.json`` answers 204 and forgets it, or 404
(code 20404) when there is none. Forced faults (``fail``) apply to deletes as to creates.

Inbound calls (twilio/twilio-oai ``FetchCall``): ``call_is(sid, status, duration, end_time)``
tells what Twilio knows of a call the app answered; ``GET …/Calls/{Sid}.json`` answers it, or
404 (code 20404) for a call it was never told of.
"""
from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

FAULTS = ("429", "500", "500-after-create", "timeout", "timeout-after-create", "21610", "21211")


@dataclass
class Created:
    """A Message or Call the app created, with what it asked for."""
    kind: str                 # message | call
    sid: str
    to: str
    from_: str
    params: dict[str, str]
    created_at: dt.datetime
    status: str = "queued"
    played: bool = False

    def resource(self, account_sid: str) -> dict:
        common = {"sid": self.sid, "account_sid": account_sid, "to": self.to, "from": self.from_,
                  "status": self.status, "direction": "outbound-api",
                  "date_created": format_datetime(self.created_at, usegmt=True),
                  "date_updated": format_datetime(self.created_at, usegmt=True),
                  "uri": f"/2010-04-01/Accounts/{account_sid}/{'Messages' if self.kind == 'message' else 'Calls'}/"
                         f"{self.sid}.json"}
        if self.kind == "message":
            return {**common, "body": self.params.get("Body", ""), "num_segments": "1", "date_sent": None,
                    "messaging_service_sid": self.params.get("MessagingServiceSid"), "error_code": None,
                    "error_message": None, "price": None, "api_version": "2010-04-01"}
        return {**common, "start_time": None, "end_time": None, "duration": None, "answered_by": None,
                "parent_call_sid": None, "api_version": "2010-04-01"}


@dataclass
class FakeTwilioRest:
    account_sid: str
    auth_token: str
    seed: int = 1
    rates: dict[str, float] = field(default_factory=dict)   # fault name -> probability per create
    slow_s: float = 1.5                                      # a "timeout" answers this late
    port: int = 0                                            # 0: any free port
    created: list[Created] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, int]] = field(default_factory=list)   # (method, path, status answered)
    recordings: set[str] = field(default_factory=set)                     # RecordingSids Twilio still holds
    deleted: list[str] = field(default_factory=list)                      # RecordingSids deleted, in order
    calls: dict[str, dict] = field(default_factory=dict)                  # inbound CallSid -> its resource
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    """Stamps ``date_created``: simulated time when the app runs on simulated time."""
    limits: dict[str, float] = field(default_factory=dict)   # call | message -> creates a second; none: unlimited
    jitter_s: float = 0.25                                   # how early a create may come before its turn

    def __post_init__(self):
        self._lock = threading.Lock()
        self._forced: list[str] = []
        self._rng = random.Random(f"{self.seed}:rest")
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._next_turn: dict[tuple[str, str], float] = {}

    # -- control ---------------------------------------------------------------------------
    def fail(self, *faults: str) -> None:
        """The next creates fail with these faults, in order."""
        bad = set(faults) - set(FAULTS)
        if bad:
            raise ValueError(f"unknown faults {bad}; known: {FAULTS}")
        with self._lock:
            self._forced.extend(faults)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeTwilioRest":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def call_is(self, sid: str, status: str, duration: int | None = None, end_time: dt.datetime | None = None) -> None:
        """What Twilio knows of an inbound call (``GET …/Calls/{sid}.json``)."""
        when = end_time and format_datetime(end_time, usegmt=True)
        with self._lock:
            self.calls[sid] = {"sid": sid, "account_sid": self.account_sid, "status": status, "direction": "inbound",
                               "duration": None if duration is None else str(duration), "end_time": when,
                               "start_time": None, "date_created": when, "date_updated": when,
                               "api_version": "2010-04-01",
                               "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"}

    def keep_recording(self, sid: str) -> None:
        with self._lock:
            self.recordings.add(sid)

    def sent(self, kind: str | None = None) -> list[Created]:
        with self._lock:
            return [c for c in self.created if kind is None or c.kind == kind]

    # -- the API ---------------------------------------------------------------------------
    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(req.path)
        parts = url.path.strip("/").split("/")
        status, body = self._route(req, method, parts, url.query)
        with self._lock:
            self.requests.append((method, url.path, status))
        if body is None:       # a timeout: the client gives up first
            return
        audio = isinstance(body, bytes)
        data = body if audio else b"" if status == 204 else json.dumps(body).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "audio/mpeg" if audio else "application/json")
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _authorised(self, req) -> bool:
        want = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return req.headers.get("Authorization", "") == f"Basic {want}"

    def _route(self, req, method: str, parts: list[str], query: str):
        if not self._authorised(req):
            return 401, _error(20003, "Authenticate", 401)
        if len(parts) == 5 and parts[:2] == ["2010-04-01", "Accounts"] and parts[2] == self.account_sid \
                and parts[3] == "Recordings":
            return self._recording(method, parts[4])
        if len(parts) == 5 and parts[:2] == ["2010-04-01", "Accounts"] and parts[2] == self.account_sid \
                and parts[3] == "Calls" and parts[4].endswith(".json") and method == "GET":
            with self._lock:
                found = self.calls.get(parts[4][:-len(".json")])
            return (200, found) if found else (404, _error(20404, "The requested resource was not found", 404))
        if len(parts) != 4 or parts[:2] != ["2010-04-01", "Accounts"] or parts[2] != self.account_sid \
                or parts[3] not in ("Messages.json", "Calls.json"):
            return 404, _error(20404, "The requested resource was not found", 404)
        kind = "message" if parts[3] == "Messages.json" else "call"
        if method == "GET":
            to = parse_qs(query).get("To", [None])[0]
            with self._lock:
                items = [c.resource(self.account_sid) for c in reversed(self.created)
                         if c.kind == kind and (to is None or c.to == to)]
            key = "messages" if kind == "message" else "calls"
            return 200, {key: items, "page": 0, "page_size": 50, "next_page_uri": None, "previous_page_uri": None,
                         "uri": "/" + "/".join(parts), "first_page_uri": "/" + "/".join(parts)}
        length = int(req.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(req.rfile.read(length).decode(), keep_blank_values=True).items()}
        return self._create(kind, form)

    def _create(self, kind: str, form: dict[str, str]):
        to = form.get("To", "")
        if not to or not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, _error(21604, "A 'To' and a 'From' (or MessagingServiceSid) are required", 400)
        if kind == "message" and not form.get("Body"):
            return 400, _error(21602, "Message body is required", 400)
        if kind == "call" and not form.get("Url") and not form.get("Twiml"):
            return 400, _error(21205, "Url or Twiml is required", 400)
        if self._over_limit(kind, "" if kind == "call" else form.get("MessagingServiceSid") or form["From"]):
            return 429, _error(20429, "Too Many Requests", 429)
        fault = self._fault()
        if fault == "429":
            return 429, _error(20429, "Too Many Requests", 429)
        if fault == "500":
            return 500, _error(20500, "Internal Server Error", 500)
        if fault == "timeout":
            time.sleep(self.slow_s)
            return 0, None
        if fault == "21211":
            return 400, _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if fault == "21610" or (kind == "message" and to in self.opted_out):
            return 400, _error(21610, "Attempt to send to unsubscribed recipient", 400)
        prefix = "SM" if kind == "message" else "CA"
        with self._lock:
            made = Created(kind, f"{prefix}{self.seed:08x}{next(self._ids):024x}", to,
                           form.get("From") or form.get("MessagingServiceSid", ""), form,
                           self.clock().replace(microsecond=0))
            self.created.append(made)
        if fault == "500-after-create":
            return 500, _error(20500, "Internal Server Error", 500)
        if fault == "timeout-after-create":
            time.sleep(self.slow_s)
            return 0, None
        return 201, made.resource(self.account_sid)

    def _recording(self, method: str, name: str):
        sid, _, ext = name.partition(".")
        with self._lock:
            held = sid in self.recordings
        if method == "GET":
            if ext == "mp3" and held:
                return 200, b"ID3\x03\x00\x00\x00\x00\x00\x00" + sid.encode()   # a stand-in for the audio
            return 404, _error(20404, "The requested resource was not found", 404)
        if method != "DELETE" or ext != "json":
            return 405, _error(20004, "Method not allowed", 405)
        fault = self._fault()
        if fault == "429":
            return 429, _error(20429, "Too Many Requests", 429)
        if fault in ("500", "500-after-create"):
            if fault == "500-after-create":
                self._forget(sid)
            return 500, _error(20500, "Internal Server Error", 500)
        if fault in ("timeout", "timeout-after-create"):
            if fault == "timeout-after-create":
                self._forget(sid)
            time.sleep(self.slow_s)
            return 0, None
        if not held:
            return 404, _error(20404, f"The requested resource /Recordings/{sid}.json was not found", 404)
        self._forget(sid)
        return 204, {}

    def _forget(self, sid: str) -> None:
        with self._lock:
            if sid in self.recordings:
                self.recordings.discard(sid)
                self.deleted.append(sid)

    def _over_limit(self, kind: str, sender: str) -> bool:
        """Above ``limits[kind]`` creates a second (per sender for messages): each create takes
        the next turn, 1/rate after the last; one more than ``jitter_s`` early is refused."""
        rate = self.limits.get(kind)
        if not rate:
            return False
        with self._lock:
            now = time.monotonic()
            turn = max(self._next_turn.get((kind, sender), now), now)
            if turn - now > self.jitter_s:
                return True
            self._next_turn[(kind, sender)] = turn + 1 / rate
            return False

    def _fault(self) -> str | None:
        with self._lock:
            if self._forced:
                return self._forced.pop(0)
            roll = self._rng.random()
        for name in FAULTS:
            rate = self.rates.get(name, 0.0)
            if roll < rate:
                return name
            roll -= rate
        return None


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
