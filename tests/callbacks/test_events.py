"""The task event webhook (``CALLBACK_WEBHOOK_URL``): a signed JSON event when a task opens and
when it goes overdue, once each, retried while the receiver is down, not when it refuses."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from aftercall import jobs
from aftercall.callbacks import sweep
from aftercall.config import Settings
from store.callbacks import CallbackTask
from store.jobs import Job
from tests.callbacks.conftest import SWEEP_AT, surveyed
from tests.conftest import make_settings

SECRET = "a-shared-secret-of-some-length"


class Receiver:
    """A receiving system on loopback: records what it got, answers with ``status``."""

    def __init__(self):
        self.got, self.status = [], 204
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/aftercall"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request):
        self.got.append((dict(request.headers), request.get_data()))
        return Response(status=self.status)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def hooked(database, receiver, monkeypatch):
    env = {"CALLBACK_WEBHOOK_URL": receiver.url, "CALLBACK_WEBHOOK_SECRET": SECRET}
    for key, value in env.items():
        monkeypatch.setenv(key, value)         # the job reads the environment, as the worker does
    return make_settings(database, **env)


def run_jobs(database) -> list[str]:
    with database.session() as s:
        ids = list(s.scalars(select(Job.id).where(Job.state == "pending").order_by(Job.id)))
    return [jobs.run(database, job_id) for job_id in ids]


def received(receiver) -> list[dict]:
    out = []
    for headers, body in receiver.got:
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Aftercall-Signature"], want)
        event = json.loads(body)
        assert headers["X-Aftercall-Event"] == event["event"]
        out.append({"delivery": headers["X-Aftercall-Delivery"], **event})
    return out


def test_opened_and_overdue_are_each_sent_once_signed(twilio, database, team, receiver, hooked):
    surveyed(twilio, "CA-e1", "2")
    surveyed(twilio, "CA-e2", "11")                          # yes, then a rating of 1
    assert sweep(hooked, database, now=SWEEP_AT) == 2
    assert sweep(hooked, database, now=SWEEP_AT) == 0          # nothing new: no new event
    assert run_jobs(database) == ["done", "done"]
    opened = received(receiver)
    assert [e["event"] for e in opened] == ["task.opened"] * 2
    assert {e["task"]["call_sid"] for e in opened} == {"CA-e1", "CA-e2"}
    assert all("caller_number" not in e["task"] and e["at"] == e["task"]["opened_at"] for e in opened)
    with database.session() as s:
        due = max(s.scalars(select(CallbackTask.due_at)))
        first = s.scalar(select(CallbackTask).where(CallbackTask.call_sid == "CA-e1"))
        first.state = "resolved"                                   # a finished task never goes overdue
    later = due + timedelta(minutes=1)
    sweep(hooked, database, now=later)
    sweep(hooked, database, now=later + timedelta(hours=1))
    assert run_jobs(database) == ["done"]
    overdue = received(receiver)[2:]
    assert [(e["event"], e["task"]["call_sid"], e["task"]["overdue"]) for e in overdue] == [
        ("task.overdue", "CA-e2", True)]
    assert len({e["delivery"] for e in received(receiver)}) == 3


def test_a_receiver_that_is_down_gets_the_event_later_and_a_refusal_is_not_retried(
        twilio, database, team, receiver, hooked):
    surveyed(twilio, "CA-e3", "2")
    sweep(hooked, database, now=SWEEP_AT)
    receiver.status = 503
    assert run_jobs(database) == ["retry"]
    receiver.status = 200
    assert run_jobs(database) == ["done"]
    deliveries = [h["X-Aftercall-Delivery"] for h, _body in receiver.got]
    assert len(deliveries) == 2 and len(set(deliveries)) == 1     # the same event, recognisable as a repeat
    surveyed(twilio, "CA-e4", "2")
    sweep(hooked, database, now=SWEEP_AT)
    receiver.status = 410
    assert run_jobs(database) == ["done"]
    with database.session() as s:
        last = s.scalars(select(Job).order_by(Job.id.desc())).first()
        assert last.result == {"status": 410, "delivered": False} and last.attempts == 1


def test_without_a_url_nothing_is_sent_but_overdue_is_still_noted(twilio, database, team, receiver):
    surveyed(twilio, "CA-e5", "2")
    settings = make_settings(database)
    sweep(settings, database, now=SWEEP_AT)
    with database.session() as s:
        due = s.scalar(select(CallbackTask.due_at))
    sweep(settings, database, now=due + timedelta(minutes=1))
    with database.session() as s:
        assert s.scalar(select(CallbackTask.overdue_at)) is not None      # turning the URL on later
        assert s.scalar(select(Job.id).where(Job.func == "aftercall.callbacks.task_event_job")) is None
    assert receiver.got == []                                             # does not flood it with the past


@pytest.mark.parametrize("env, says", [
    ({"CALLBACK_WEBHOOK_URL": "ftp://crm.example/hook", "CALLBACK_WEBHOOK_SECRET": SECRET}, "http(s) URL"),
    ({"CALLBACK_WEBHOOK_URL": "https://crm.example/hook"}, "needs CALLBACK_WEBHOOK_SECRET"),
    ({"CALLBACK_WEBHOOK_URL": "https://crm.example/hook", "CALLBACK_WEBHOOK_SECRET": "short"}, "16 characters"),
])
def test_bad_settings_are_refused_at_start(env, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)
