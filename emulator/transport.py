"""Where requests go: a live server over HTTP, or a WSGI app in-process.

Both are an `httpx.Client`, so the emulator has one code path; only the
transport differs. In-process, `httpx.WSGITransport` calls the Flask app
directly (no sockets), which keeps tests and demo seeding fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass
class Target:
    """The app under test: its public base URL (what Twilio would request) and a client to reach it."""

    base_url: str
    client: httpx.Client

    @classmethod
    def http(cls, base_url: str, *, connections: int = 64, read_timeout_s: float = 15.0) -> "Target":
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        timeout = httpx.Timeout(read_timeout_s, connect=5.0)
        return cls(base_url.rstrip("/"), httpx.Client(limits=limits, timeout=timeout))

    @classmethod
    def wsgi(cls, app, base_url: str = "http://localhost") -> "Target":
        # raise_app_exceptions=False: an exception in the app becomes the 500 Twilio would see.
        transport = httpx.WSGITransport(app=app, raise_app_exceptions=False)
        return cls(base_url.rstrip("/"), httpx.Client(transport=transport))

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def close(self) -> None:
        self.client.close()
