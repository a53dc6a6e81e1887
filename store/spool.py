"""What Twilio told us while the database was unreachable, kept until it can be applied.

Twilio does not retry most webhooks (a Gather action, a Dial action, a messaging webhook),
so what it sends has to be kept before we answer 200. ``Spool.append`` tries, in order:

1. the local folder: one JSON line per record appended to the process's own file, fsynced;
2. a Redis stream (``XADD``; needs ``REDIS_URL``): survives a web box replaced with its disk;
3. the log: one CRITICAL line carrying the whole record after ``SPOOL_LOST_MARK``, which
   ``flask spool replay-log FILE`` applies later.

``replay(apply)`` claims the local files (an atomic rename; a writer holding the old file is
waited for with ``flock``) and the stream's entries, and hands every record to ``apply`` in
the order they were received (``spooled_at``: Twilio's own ``Timestamp`` is on few webhooks
and only to the second). ``apply`` must be idempotent and answer ``REFUSED`` for a record
that can never be applied (kept in ``rejected-*.jsonl``, never deleted); if it raises (the
database went away again) every record stays for the next replay.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

from store.answers import REFUSED
from store.base import utcnow

log = logging.getLogger(__name__)
CLAIM_STALE_SECONDS = 60   # a claimed file this old lost its replaying process: claim it again
SPOOL_LOST_MARK = "SPOOL-LOST "   # the log line's record follows this, as one JSON object
STREAM_BATCH = 500
STREAM_LOCK_SECONDS = 120   # one process drains the stream; a holder that died frees it after this


class SpoolLost(RuntimeError):
    """No target took the record; it is in the log line (``SPOOL_LOST_MARK``) only."""


class Spool:
    def __init__(self, directory: Path | str, redis_url: str = "", stream: str = "aftercall:spool"):
        self.dir = Path(directory)
        self.redis_url, self.stream = redis_url, stream
        self._redis = None
        self.pending = True   # files or entries from an earlier process may be waiting

    # -- writing ----------------------------------------------------------------------------
    def append(self, record: dict) -> str:
        """Durably keep ``record``; returns where ("disk", "redis"), or raises ``SpoolLost``
        after logging the whole record."""
        record = {**record, "spooled_at": utcnow().isoformat()}
        line = json.dumps(record, ensure_ascii=False)
        try:
            self._append_file(line.encode() + b"\n")
            self.pending = True
            return "disk"
        except OSError as exc:
            log.error("the spool folder %s is not writable (%s); trying the Redis stream", self.dir, exc)
        try:
            self._client().xadd(self.stream, {"r": line})
            self.pending = True
            return "redis"
        except Exception as exc:   # no REDIS_URL, Redis down, out of memory…
            log.error("the spool's Redis stream is not writable either (%s)", exc)
        log.critical("%s%s", SPOOL_LOST_MARK, line)
        raise SpoolLost("every spool target failed; the record is in the log")

    def _client(self):
        if not self.redis_url:
            raise RuntimeError("no REDIS_URL for the spool's stream")
        if self._redis is None:
            from redis import Redis
            self._redis = Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def probe(self) -> None:
        """Raise ``OSError`` unless a record could be kept in the folder now (readiness)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        probe = self.dir / f".probe-{os.getpid()}-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()

    def _own_file(self) -> Path:
        return self.dir / f"answers-{os.getpid()}.jsonl"

    def _append_file(self, line: bytes) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
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
                    return
            finally:
                os.close(fd)

    # -- replaying --------------------------------------------------------------------------
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

    def _stream_entries(self) -> list[tuple[bytes, bytes]]:
        """The stream's entries (id, raw record); none when there is no Redis or it is away."""
        if not self.redis_url:
            return []
        try:
            return [(entry_id, fields[b"r"]) for entry_id, fields in
                    self._client().xrange(self.stream, count=STREAM_BATCH)]
        except Exception as exc:
            log.warning("cannot read the spool's Redis stream (%s); it waits for the next replay", exc)
            return []

    def _drain_lock(self):
        """The stream's drain lock (redis-py's ``Lock``, expiring), or None when another process
        holds it or there is no Redis: two web hosts and a worker would otherwise apply the same
        entries at once (idempotent, but each twice)."""
        if not self.redis_url:
            return None
        try:
            lock = self._client().lock(f"{self.stream}:drain", timeout=STREAM_LOCK_SECONDS, blocking=False)
            return lock if lock.acquire() else None
        except Exception as exc:
            log.warning("cannot lock the spool's Redis stream (%s); it waits for the next replay", exc)
            return None

    def replay(self, apply: Callable[[dict], str], seconds: float | None = None) -> int:
        """Apply kept records in the order received; returns how many were applied (duplicates
        included, refused ones not). ``seconds``: stop starting new ones after that long (a web
        request must answer Twilio in time); what is left stays kept for the next replay."""
        lock = self._drain_lock()
        try:
            return self._replay(apply, seconds, lock is not None)
        finally:
            if lock is not None:
                with contextlib.suppress(Exception):   # expired meanwhile: nothing to release
                    lock.release()

    def _replay(self, apply: Callable[[dict], str], seconds: float | None, stream: bool) -> int:
        claimed = self._claim()
        entries = self._stream_entries() if stream else []
        try:
            items = [(raw, None) for path in claimed for raw in path.read_bytes().splitlines() if raw.strip()]
            items += [(raw, entry_id) for entry_id, raw in entries]
            applied, left = self._apply_items(items, apply, seconds)
            leftover = [raw for raw, entry_id in left if entry_id is None]
            if leftover:   # written back before the claimed files go
                self._write_back(leftover)
        except BaseException:
            # The database went away again: hand the files back under names no writer appends
            # to, so the next replay takes them at once; the stream's entries were not removed.
            for path in claimed:
                with contextlib.suppress(FileNotFoundError):
                    os.rename(path, self.dir / f"answers-retry-{uuid.uuid4().hex}.jsonl")
            raise
        for path in claimed:
            path.unlink()
        kept = {entry_id for _, entry_id in left}
        done = [entry_id for entry_id, _ in entries if entry_id not in kept]
        if done:
            self._client().xdel(self.stream, *done)
        if left:
            self.pending = True
        elif len(entries) == STREAM_BATCH:
            applied += self._replay(apply, seconds, stream)
        return applied

    def _write_back(self, raws: list[bytes]) -> None:
        tmp = self.dir / f"tmp-{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\n".join(raws) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, self.dir / f"answers-retry-{uuid.uuid4().hex}.jsonl")

    def apply_all(self, raws: Iterable[bytes | str], apply: Callable[[dict], str]) -> int:
        """Apply raw JSON records in the order they were received; refused ones are kept aside."""
        return self._apply_items([(raw, None) for raw in raws], apply, None)[0]

    def _apply_items(self, items: list, apply: Callable[[dict], str], seconds: float | None) -> tuple[int, list]:
        """(how many applied, the items not tried before the deadline)."""
        records, rejected = [], []
        for raw, source in items:
            try:
                rec = json.loads(raw)
                records.append((str(rec["spooled_at"]), raw, source, rec))
            except (ValueError, KeyError, TypeError):
                rejected.append(raw)
        records.sort(key=lambda r: r[0])
        deadline = None if seconds is None else time.monotonic() + seconds
        applied = 0
        for n, (_, raw, source, rec) in enumerate(records):
            if deadline is not None and time.monotonic() > deadline:
                if rejected:
                    self._reject(rejected)
                return applied, [(r[1], r[2]) for r in records[n:]]
            if apply(rec) == REFUSED:
                rejected.append(raw)
            else:
                applied += 1
        if rejected:
            self._reject(rejected)
        return applied, []

    def _reject(self, raws: list) -> None:
        lines = [r if isinstance(r, bytes) else r.encode() for r in raws]
        log.warning("%d spooled records cannot be applied (unknown leg, call or step); kept in rejected-*.jsonl",
                    len(lines))
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            (self.dir / f"rejected-{uuid.uuid4().hex}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        except OSError:
            for line in lines:
                log.critical("rejected spool record, kept only here: %s%s", SPOOL_LOST_MARK, line.decode())

    def replay_if_pending(self, apply: Callable[[dict], str], seconds: float | None = None) -> int:
        """Cheap when this process kept nothing; called after a request reached the database."""
        if not self.pending:
            return 0
        self.pending = False
        try:
            applied = Spool.replay(self, apply, seconds)
        except BaseException:
            self.pending = True
            raise
        if not self.pending and self.dir.is_dir():
            self.pending = any(p.name.startswith(("answers-", "claimed-")) for p in self.dir.iterdir())
        return applied


def lost_records(lines: Iterable[str]) -> list[str]:
    """The records carried by ``SPOOL_LOST_MARK`` log lines (anything else is skipped)."""
    return [line.split(SPOOL_LOST_MARK, 1)[1].strip() for line in lines if SPOOL_LOST_MARK in line]
