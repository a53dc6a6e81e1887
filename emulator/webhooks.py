"""Deliver one webhook the way Twilio does: signed, retried, sometimes twice.

- Signature: `X-Twilio-Signature` is HMAC-SHA1 over the full URL plus the
  POST parameters sorted by name; for GET the parameters are in the URL and
  nothing is appended (twilio.com/docs/usage/webhooks/webhooks-security).
  We sign with twilio's own `RequestValidator.compute_signature`.
- Connection overrides ride in the URL fragment (`#rc=1&rp=5xx&rt=15000`),
  which is never sent to the server and not part of the signed URL
  (twilio.com/docs/usage/webhooks/webhooks-connection-overrides). Defaults:
  read timeout 15 s, retry count 1; the default retry policy comes from the
  scenario (`faults.retry_policy`).
- Retries repeat the same request with the same `I-Twilio-Idempotency-Token`,
  so a handler can recognise an attempt it already processed.
- A duplicate delivery (fault) sends the same request again after the first
  answer; the call follows the first answer and the second is kept so the
  call can check it was equivalent.
- Anything but a 2xx after retries, or a timeout, is Twilio error 11200
  ("HTTP retrieval failure"); the caller hears "an application error has
  occurred".
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qs, urldefrag, urlencode, urlsplit, urlunsplit

import httpx
from twilio.request_validator import RequestValidator

from .scenario import Faults

TWIML_CONTENT_TYPES = ("text/xml", "application/xml", "text/html")


@dataclass
class Reply:
    url: str              # URL requested, without the fragment
    status: int | None    # HTTP status of the attempt we follow; None on timeout/connect failure
    body: bytes
    content_type: str
    failure: str | None   # None, "4xx", "5xx", "rt" (read timeout) or "ct" (connect failure)
    attempts: int
    duplicate: tuple[int | None, bytes] | None = None   # (status, body) of the duplicate delivery

    @property
    def ok(self) -> bool:
        return self.failure is None


class LatencyLog:
    """Wall-clock latency of every attempt, by URL path: what load benchmarks report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_path: dict[str, list[float]] = defaultdict(list)

    def add(self, path: str, seconds: float) -> None:
        with self._lock:
            self.by_path[path].append(seconds)


class WebhookClient:
    def __init__(self, client: httpx.Client, auth_token: str, faults: Faults,
                 read_timeout_s: float, latency: LatencyLog):
        self.client = client
        self.validator = RequestValidator(auth_token)
        self.faults = faults
        self.read_timeout_s = read_timeout_s
        self.latency = latency

    def deliver(self, url: str, method: str, params: dict[str, str], token: str, *,
                duplicate: bool = False, lose_first_response: bool = False) -> Reply:
        """Send one webhook with retries; runs in a worker thread."""
        bare, fragment = urldefrag(url)
        overrides = {k: v[-1] for k, v in parse_qs(fragment).items()}
        retries = max(0, min(5, int(overrides.get("rc", self.faults.retry_count))))
        policy = set(overrides.get("rp", self.faults.retry_policy).split(","))
        read_timeout = min(float(overrides.get("rt", self.read_timeout_s * 1000)) / 1000, 15.0)
        method = method.upper()
        attempt = 0
        while True:
            attempt += 1
            reply = self._send(bare, method, params, token, read_timeout,
                               lose=lose_first_response and attempt == 1)
            reply.attempts = attempt
            retryable = reply.failure is not None and (reply.failure in policy or "all" in policy)
            if not retryable or attempt > retries:
                break
        if duplicate and reply.ok:
            again = self._send(bare, method, params, token, read_timeout, lose=False)
            reply.duplicate = (again.status, again.body)
        return reply

    def sign(self, url: str, params: dict[str, str]) -> str:
        return self.validator.compute_signature(url, params)

    def _send(self, url: str, method: str, params: dict[str, str], token: str,
              read_timeout: float, lose: bool) -> Reply:
        if method == "GET":
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode(params)) if q)
            url, body_params = urlunsplit(parts._replace(query=query)), {}
        else:
            body_params = params
        headers = {
            "X-Twilio-Signature": self.sign(url, body_params),
            "I-Twilio-Idempotency-Token": token,
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
        }
        started = time.perf_counter()
        failure, status, body, ctype = None, None, b"", ""
        try:
            resp = self.client.request(method, url, data=body_params or None, headers=headers,
                                       timeout=httpx.Timeout(read_timeout, connect=5.0))
            status, body = resp.status_code, resp.content
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            if not 200 <= status < 300:
                failure = "5xx" if status >= 500 else "4xx"
        except (httpx.ConnectError, httpx.ConnectTimeout):
            failure = "ct"
        except httpx.TimeoutException:
            failure = "rt"
        except Exception:  # an in-process app that raised: a real server would have answered 500
            failure, status = "5xx", 500
        elapsed = time.perf_counter() - started
        self.latency.add(urlsplit(url).path, elapsed)
        if failure is None and elapsed > read_timeout:
            failure, status = "rt", None
        if lose and failure is None:
            failure, status, body = "rt", None, b""
        return Reply(url=url, status=status, body=body, content_type=ctype, failure=failure, attempts=1)


def idempotency_token(call_sid: str, step: int) -> str:
    return hashlib.sha256(f"{call_sid}:{step}".encode()).hexdigest()[:32]
