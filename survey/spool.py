"""Survey answers that arrived while the database was unreachable: an append-only local spool.

Twilio does not retry a Gather action, and a non-2xx makes the caller hear "an application
error has occurred", so the answer has to be kept by us before we answer 200. Each web
process appends one JSON line per answer to its own file and fsyncs it; once the database
answers again, any process claims the files (an atomic rename) and inserts the answers
through ``survey.answers.record_answer``, once per ``(leg_id, question)``, so a replay that
runs twice, or an answer that also reached the database another way, is counted once.
Lines that cannot be stored (their leg is unknown) go to ``rejected-*.jsonl``, never away.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
import uuid
from datetime import datetime
from pathlib import Path

from store.base import utcnow
from store.db import Database
from survey.answers import REFUSED, record_answer
from survey.flow import Record

log = logging.getLogger(__name__)
CLAIM_STALE_SECONDS = 60   # a claimed file this old lost its replaying process: claim it again


class AnswerSpool:
    def __init__(self, directory: Path | str):
        self.dir = Path(directory)
        self.pending = True   # files from an earlier process may be waiting

    def _own_file(self) -> Path:
        return self.dir / f"answers-{os.getpid()}.jsonl"

    def probe(self) -> None:
        """Raise ``OSError`` unless an answer could be spooled here now (readiness)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        probe = self.dir / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()

    def append(self, record: dict) -> None:
        """Durably add one answer (``leg_id``, ``call_sid``, ``question``, ``value``, ``status``…)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        line = (json.dumps({**record, "spooled_at": utcnow().isoformat()}, ensure_ascii=False) + "\n").encode()
        while True:
            path = self._own_file()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = os.fstat(fd).st_ino == os.stat(path).st_ino
                except FileNotFoundError:
                    same = False
                if same:  # not claimed by a replay between our open and our lock
                    os.write(fd, line)
                    os.fsync(fd)
                    self.pending = True
                    return
            finally:
                os.close(fd)

    def _claim(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        now = time.time()
        claimed = []
        for path in sorted(self.dir.iterdir()):
            stale = path.name.startswith("claimed-") and now - path.stat().st_mtime > CLAIM_STALE_SECONDS
            if not (path.name.startswith("answers-") or stale):
                continue
            target = self.dir / f"claimed-{uuid.uuid4().hex}.jsonl"
            try:
                os.rename(path, target)
            except FileNotFoundError:
                continue  # another process claimed it first
            fd = os.open(target, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)   # wait for a writer that opened it before the rename
            finally:
                os.close(fd)
            claimed.append(target)
        return claimed

    def replay(self, db: Database) -> int:
        """Insert every spooled answer; returns how many lines were stored (duplicates included)."""
        stored, claimed = 0, self._claim()
        try:
            while claimed:
                stored += self._replay_file(db, claimed[0])
                claimed.pop(0)
        except BaseException:
            # The database went away again: hand the files back under names no writer appends
            # to, so the next replay takes them at once (not after CLAIM_STALE_SECONDS). A file
            # stored but not yet removed is replayed again: ON CONFLICT keeps it counted once.
            for path in claimed:
                with contextlib.suppress(FileNotFoundError):
                    os.rename(path, self.dir / f"answers-retry-{uuid.uuid4().hex}.jsonl")
            raise
        return stored

    def _replay_file(self, db: Database, path: Path) -> int:
        stored = 0
        rejected = []
        with db.session() as s:
            for raw in path.read_bytes().splitlines():
                try:
                    rec = json.loads(raw)
                    outcome, _ = record_answer(
                        s, leg_id=int(rec["leg_id"]), call_sid=str(rec["call_sid"]),
                        record=Record(rec["question"], rec["value"], rec["status"]),
                        finish=bool(rec.get("finished")), version=rec["survey_version"],
                        channel=rec.get("channel", "call"), at=datetime.fromisoformat(rec["spooled_at"]))
                except (ValueError, KeyError, TypeError):
                    outcome = REFUSED
                if outcome == REFUSED:
                    rejected.append(raw)
                    continue
                stored += 1
        if rejected:
            log.warning("%d spooled answers name no known leg; kept in rejected-*.jsonl", len(rejected))
            (self.dir / f"rejected-{uuid.uuid4().hex}.jsonl").write_bytes(b"\n".join(rejected) + b"\n")
        path.unlink()
        return stored

    def replay_if_pending(self, db: Database) -> int:
        """Cheap when nothing was spooled; called after a request reached the database."""
        if not self.pending:
            return 0
        stored = self.replay(db)
        self.pending = any(p.name.startswith(("answers-", "claimed-")) for p in self.dir.iterdir()) \
            if self.dir.is_dir() else False
        if stored:
            log.info("replayed %d spooled survey answers into the database", stored)
        return stored
