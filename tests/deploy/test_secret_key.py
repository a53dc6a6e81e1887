"""No shared SECRET_KEY, no web or worker process: a key drawn per process signs sessions the
next gunicorn worker refuses. One-shot ``flask`` commands (migrate, users, sla) still run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aftercall import create_app
from aftercall.config import MISSING_SECRET, Settings
from bench.servers import free_port
from tests.conftest import AUTH_TOKEN, make_settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env_without_secret(database, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_APP")}
    return {**env, "DATABASE_URL": database.url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "REDIS_URL": "",
            "PYTHONPATH": str(ROOT), **extra}


def test_the_app_factory_refuses_without_a_secret(database, capsys):
    with pytest.raises(SystemExit) as exit_:
        create_app(Settings.from_env({"DATABASE_URL": database.url}), db=database)
    assert exit_.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [MISSING_SECRET]
    assert "SECRET_KEY" in err[0] and "secrets.token_hex(32)" in err[0]


def test_a_set_secret_is_the_one_every_process_signs_with(database):
    app = create_app(make_settings(database, SECRET_KEY="shared-by-every-process"), db=database)
    assert app.config["SECRET_KEY"] == "shared-by-every-process"


def test_gunicorn_exits_with_the_line_naming_secret_key(database):
    cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{free_port()}", "--workers", "2",
           "aftercall:create_app()"]
    done = subprocess.run(cmd, cwd=ROOT, env=_env_without_secret(database), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert MISSING_SECRET in done.stderr.splitlines()


def test_the_worker_exits_with_the_line_naming_secret_key(database):
    cmd = [str(BIN / "flask"), "--app", "aftercall", "worker"]
    done = subprocess.run(cmd, cwd=ROOT, env=_env_without_secret(database), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert MISSING_SECRET in done.stderr.splitlines()


def test_a_one_shot_command_runs_without_the_secret(database):
    cmd = [str(BIN / "flask"), "--app", "aftercall", "users", "list"]
    done = subprocess.run(cmd, cwd=ROOT, env=_env_without_secret(database), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SECRET_KEY" not in done.stderr
