"""Retention of the caller's words: deleted at Twilio (its REST stand-in) and blanked here once
past ``RECORDING_RETENTION_DAYS``; Twilio's 404 is success, its errors are retried, nothing is
deleted twice, and the callbacks' stored parameters lose the text too."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from aftercall.jobs import run
from aftercall.recordings import PurgeIncomplete, RecordingSweeper, purge_expired, purge_job, remover
from store.base import utcnow
from store.calls import WebhookEvent
from store.jobs import Job, submit
from store.recordings import Recording
from tests.words.conftest import left_words


@pytest.fixture
def said(app, database, rest, twilio, team):
    """Three callers' words; the first two recorded 40 days ago, the third today."""
    for n in range(3):
        left_words(twilio, rest, f"CA-w{n}", f"words {n}", seq=n)
    with database.session() as s:
        s.execute(update(Recording).where(Recording.call_sid.in_(["CA-w0", "CA-w1"]))
                  .values(created_at=utcnow() - timedelta(days=40)))
        return {r.call_sid: r.recording_sid for r in s.scalars(select(Recording))}


@pytest.fixture
def job_env(app, rest, monkeypatch):
    """A job reads its settings from the environment, as in the worker."""
    settings = app.config["SETTINGS"]
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", settings.twilio_account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", settings.twilio_auth_token)
    monkeypatch.setenv("TWILIO_API_BASE_URL", rest.url)


def state(database) -> dict:
    with database.session() as s:
        return {r.call_sid: (bool(r.url), r.transcription_text, r.deleted_at is not None, r.delete_attempts)
                for r in s.scalars(select(Recording))}


def deletes(rest) -> list[str]:
    return [path for method, path, _ in rest.requests if method == "DELETE"]


def test_expired_words_are_deleted_at_twilio_and_blanked_here_once(app, database, rest, said):
    counts = purge_expired(database, remover(app.config["SETTINGS"]), 30, utcnow())
    assert counts == {"deleted": 2, "already_gone": 0, "failed": 0, "skipped": 0}
    assert sorted(rest.deleted) == sorted([said["CA-w0"], said["CA-w1"]]) and said["CA-w2"] in rest.recordings
    assert state(database) == {"CA-w0": (False, None, True, 1), "CA-w1": (False, None, True, 1),
                               "CA-w2": (True, "words 2", False, 0)}
    with database.session() as s:
        kept = {e.step: e.params for e in s.scalars(select(WebhookEvent).where(WebhookEvent.call_sid == "CA-w0"))
                if said["CA-w0"] in e.step}
    assert len(kept) == 3 and all(p == {} for p in kept.values())     # action, status, transcription
    before = len(deletes(rest))
    assert purge_expired(database, remover(app.config["SETTINGS"]), 30, utcnow()) == {}
    assert len(deletes(rest)) == before      # nothing deleted twice


def test_gone_at_twilio_counts_as_deleted(app, database, rest, said):
    rest.recordings.discard(said["CA-w0"])
    counts = purge_expired(database, remover(app.config["SETTINGS"]), 30, utcnow())
    assert counts["already_gone"] == 1 and counts["deleted"] == 1
    assert state(database)["CA-w0"] == (False, None, True, 1)


@pytest.mark.parametrize("fault", ["429", "500", "timeout"])
def test_twilio_errors_keep_the_words_and_the_job_retries(app, database, rest, said, fault, job_env):
    rec = remover(app.config["SETTINGS"])
    rec.client.http_client.timeout = 0.4      # the stand-in's "timeout" answers after 1 s
    rest.fail(fault)
    counts = purge_expired(database, rec, 30, utcnow())
    assert counts["failed"] == 1 and counts["deleted"] == 1
    failed = [sid for sid, st in state(database).items() if not st[2] and sid != "CA-w2"]
    assert len(failed) == 1 and state(database)[failed[0]][:2] == (True, f"words {failed[0][-1]}")
    with database.session() as s:
        assert s.scalar(select(Recording.delete_error).where(Recording.call_sid == failed[0]))
    # The job runs again (the outbox retries it) and finishes the one left.
    with database.session() as s:
        job = submit(s, purge_job)
    assert run(database, job.id) == "done"
    assert all(st[2] for sid, st in state(database).items() if sid != "CA-w2")
    assert sorted(rest.deleted) == sorted([said["CA-w0"], said["CA-w1"]])


def test_the_job_fails_for_a_retry_when_twilio_refuses(app, database, rest, said, job_env):
    rest.fail("500", "500")
    with database.session() as s:
        job = submit(s, purge_job)
    with pytest.raises(PurgeIncomplete):
        run(database, job.id, reraise=True)
    with database.session() as s:
        assert s.get(Job, job.id).state == "queued"
    assert run(database, job.id) == "done"
    assert sum(st[2] for st in state(database).values()) == 2


def test_the_sweeper_submits_one_purge_while_one_waits(app, database, said):
    settings = app.config["SETTINGS"]
    sweeper = RecordingSweeper(settings, database)
    assert sweeper.tick() is True
    sweeper.clock.next_at = 0
    assert sweeper.tick() is False          # one is pending already
    with database.session() as s:
        assert s.scalar(select(Job.func)) == "aftercall.recordings.purge_job"
        s.execute(update(Job).values(state="done"))
        s.execute(update(Recording).values(created_at=utcnow()))
    sweeper.clock.next_at = 0
    assert sweeper.tick() is False          # nothing past retention


def test_retention_must_be_a_day_at_least(database):
    from tests.conftest import make_settings
    with pytest.raises(ValueError):
        RecordingSweeper(make_settings(database, RECORDING_RETENTION_DAYS="0"), database)
