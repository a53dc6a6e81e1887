"""Job functions for the fault tests: they record every attempt and apply their effect once."""
from __future__ import annotations

import os
import time
from pathlib import Path

from store.jobs import job


def _note(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


@job("tests.faults.jobfns.effect_once")
def effect_once(ctx, workdir: str, name: str) -> dict:
    """Idempotent: the effect file is created only if absent (O_EXCL), however often we run."""
    _note(os.path.join(workdir, "attempts"), f"{name} {os.getpid()}")
    return _apply(workdir, name)


def _apply(workdir: str, name: str) -> dict:
    try:
        os.close(os.open(os.path.join(workdir, f"effect-{name}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        _note(os.path.join(workdir, "effects"), name)
    except FileExistsError:
        pass
    return {"name": name}


@job("tests.faults.jobfns.hang_first_time")
def hang_first_time(ctx, workdir: str, name: str) -> dict:
    """The first attempt reports progress and then hangs (until it is killed); later ones finish."""
    attempts = Path(workdir, "attempts")
    first = not attempts.exists()
    _note(str(attempts), f"{name} {os.getpid()}")
    if first:
        ctx.progress(0.5, "half way")
        Path(workdir, "started").touch()
        while True:
            time.sleep(0.05)
    return _apply(workdir, name)


@job("tests.faults.jobfns.sleep_then_apply")
def sleep_then_apply(ctx, workdir: str, name: str, seconds: float) -> dict:
    """A long job that never reports progress: only its heartbeat says it is alive."""
    _note(os.path.join(workdir, "attempts"), f"{name} {os.getpid()}")
    time.sleep(seconds)
    return _apply(workdir, name)


@job("tests.faults.jobfns.slow_hook", lane="slow")
def slow_hook(ctx, workdir: str, name: str) -> dict:
    """Stands for a post to a slow outside endpoint (a CRM's webhook)."""
    _note(os.path.join(workdir, "order"), name)
    return {"name": name}


@job("tests.faults.jobfns.urgent_send", lane="urgent")
def urgent_send(ctx, workdir: str, name: str) -> dict:
    """Stands for a follow-up send: a caller is waiting for it."""
    _note(os.path.join(workdir, "order"), name)
    return {"name": name}
