"""One log format for the web processes and the worker: time, level, process, logger, the
request's id and the call's CallSid (or the job's id), on every line; INFO kept.

The request id is the one the router gave (``X-Request-ID``, e.g. Heroku's or nginx's) or a new
one; it is also answered in ``X-Request-ID``, so a complaint can be found in the log. The CallSid
is read from the form only once the view has parsed it (a log line never parses a body).
"""
from __future__ import annotations

import contextvars
import logging
import os
import re
import uuid

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s req=%(request_id)s call=%(call_sid)s: %(message)s"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
job_context: contextvars.ContextVar[str] = contextvars.ContextVar("job_context", default="-")
"""Set by the job runner to ``job-<id>``: the worker's lines name the job as a request's name it."""


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import g, has_request_context, request
        request_id, call_sid = job_context.get(), "-"
        if has_request_context():
            request_id = g.get("request_id", "-")
            form = request.__dict__.get("form")   # parsed already, or not looked at
            call_sid = (form.get("CallSid") if form is not None else None) or request.args.get("CallSid") or "-"
        record.request_id, record.call_sid = request_id, call_sid
        return True


CHATTY = ("httpx", "twilio.http_client")
"""Client libraries that log every request they make at INFO (the emulator's httpx, Twilio's REST
client with its headers): kept at WARNING so INFO stays readable."""


def configure(level: str | None = None) -> None:
    """Give the root logger one handler in ``FORMAT`` (once per process), at ``LOG_LEVEL`` (INFO)."""
    root = logging.getLogger()
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    root.setLevel(level)
    for chatty in CHATTY:   # a line per HTTP request they make, headers included: not ours to keep
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    if any(getattr(h, "aftercall", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.aftercall = True
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_Context())
    root.addHandler(handler)


def init_app(app) -> None:
    """Request ids in and out; the format above for every line the app writes."""
    from flask import g, request
    configure()

    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]

    @app.after_request
    def _answer_id(response):
        if "request_id" in g:
            response.headers.setdefault("X-Request-ID", g.request_id)
        return response
