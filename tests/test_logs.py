"""Operable logs: time, level, process, logger, request id and CallSid (or job id) on every line."""
from __future__ import annotations

import io
import logging
import re

import pytest

from aftercall import jobs, logs
from store.jobs import job, submit

LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) \[\d+\] (?P<logger>[\w.]+) "
                  r"req=(?P<req>\S+) call=(?P<call>\S+): (?P<message>.*)")


@pytest.fixture
def log_lines():
    """What the app's handler writes, in its format, from every logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(logs.FORMAT))
    handler.addFilter(logs._Context())
    logging.getLogger().addHandler(handler)
    yield lambda: [LINE.fullmatch(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def test_a_webhook_line_names_its_request_and_call(app, twilio, log_lines):
    resp = twilio.post("/voice/status", {"CallSid": "CA9001", "CallStatus": "exploded"},
                       headers={"X-Request-ID": "router-abc-123"})
    assert resp.status_code == 200 and resp.headers["X-Request-ID"] == "router-abc-123"
    [line] = [m for m in log_lines() if m and m["logger"] == "webhooks.replay"]
    assert (line["level"], line["req"], line["call"]) == ("WARNING", "router-abc-123", "CA9001")
    assert "not a Twilio value" in line["message"]


def test_a_request_without_an_id_gets_one_and_info_is_kept(app, log_lines):
    client = app.test_client()
    first, second = (client.get("/healthz", headers={"X-Request-ID": "bad id; forged=1"}).headers["X-Request-ID"]
                     for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second
    assert logging.getLogger().getEffectiveLevel() <= logging.INFO
    with app.test_request_context("/"):
        logging.getLogger("aftercall.test").info("an INFO line")
    assert [m["level"] for m in log_lines() if m and m["message"] == "an INFO line"] == ["INFO"]


@job("tests.test_logs.noisy")
def noisy(ctx) -> dict:
    logging.getLogger("aftercall.test").info("working on it")
    return {}


def test_a_job_line_names_its_job(database, log_lines):
    logs.configure()
    with database.session() as s:
        job_id = submit(s, noisy).id
    assert jobs.run(database, job_id) == "done"
    [line] = [m for m in log_lines() if m and m["message"] == "working on it"]
    assert (line["level"], line["req"], line["call"]) == ("INFO", f"job-{job_id}", "-")


def test_client_libraries_request_by_request_chatter_is_left_out():
    """Twilio's REST client logs every request with its headers at INFO, the emulator's httpx
    every request: INFO stays ours (a demo's log was 25,000 such lines)."""
    logs.configure("INFO")
    assert logging.getLogger("survey.followups").isEnabledFor(logging.INFO)
    assert not logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("twilio.http_client").isEnabledFor(logging.WARNING)
