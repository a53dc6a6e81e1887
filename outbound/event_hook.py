"""Posting a signed JSON event to the URL an operator set (``CALLBACK_WEBHOOK_URL``).

The body is signed the way GitHub and Twilio's own event streams are: HMAC-SHA256 of the raw
body with the shared secret, hex, in ``X-Aftercall-Signature: sha256=…``; the receiver computes
the same over the bytes it got and compares in constant time. ``X-Aftercall-Delivery`` is the
same on every retry of one event, so a receiver can drop a repeat. A 2xx is delivered; a 429,
a 5xx, a timeout or a refused connection may succeed later (``EventRetry``); any other answer
will not, and is returned so the job can record it.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import requests

TIMEOUT_SECONDS = 10


class EventRetry(Exception):
    """The receiver may take the event later: the job runs again."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_event(url: str, secret: str, event: dict, delivery: str, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST ``event``; returns the receiver's status when it is final (2xx, or a 4xx refusal)."""
    body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Aftercall-Webhook/1",
               "X-Aftercall-Event": event["event"], "X-Aftercall-Delivery": delivery,
               "X-Aftercall-Signature": signature(secret, body)}
    try:
        got = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise EventRetry(f"{url} unreachable: {type(exc).__name__}") from exc
    if got.status_code == 429 or got.status_code >= 500:
        raise EventRetry(f"{url} answered {got.status_code}")
    return got.status_code
